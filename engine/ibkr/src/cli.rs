//! `tickline ibkr …`: the client as a command-line tool. Human tables by default, `--json`
//! for scripts. `place` and `cancel` ask for confirmation on stdin unless `--yes`.
//!
//! The binary wires [`IbkrArgs`] in as a subcommand and calls [`run`].

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL};
use rust_decimal::Decimal;
use serde::Serialize;
use tickline_engine::domain::BarSeries;

use crate::catalog::{self, Base, CATALOG};
use crate::client::Client;
use crate::error::IbkrError;
use crate::marketdata::{self, BarSize, DEFAULT_FIELDS, Field, Period, Snapshot};
use crate::models::{
    HistoryRequest, LiveOrdersQuery, OrderTicket, OrderType, SecdefSearchRequest, Side, Tif,
    TrailingType,
};
use crate::oauth::{Consumer, OAuthConfig, OAuthSession};
use crate::prompts::{PlaceOutcome, Prompt, PromptPolicy};
use crate::session::SessionConfig;
use crate::transport::{Auth, ClientConfig, DEFAULT_GATEWAY_URL};

/// Options of `tickline ibkr`.
#[derive(Debug, Clone, clap::Args)]
pub struct IbkrArgs {
    /// Base URL of the Trading API (default: the local gateway, or the OAuth file's base_url).
    #[arg(long, env = "IBKR_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// OAuth 1.0a settings file (TOML); without it the local gateway is used.
    #[arg(long, env = "IBKR_OAUTH_CONFIG", global = true)]
    pub oauth_config: Option<PathBuf>,
    /// Accept the gateway's self-signed TLS certificate.
    #[arg(long, global = true)]
    pub insecure_tls: bool,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: IbkrCommand,
}

/// `tickline ibkr` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum IbkrCommand {
    /// Session status: brokerage auth state and SSO lifetime.
    Status,
    /// Tradable accounts (performs the OAuth handshake when configured).
    Accounts,
    /// Search contracts by symbol.
    Search {
        symbol: String,
        /// STK, IND or BOND.
        #[arg(long)]
        sec_type: Option<String>,
        /// Search by company name.
        #[arg(long)]
        name: bool,
    },
    /// Contract details.
    Contract { conid: i64 },
    /// Market data snapshot (waits through the pre-flight).
    Snapshot {
        #[arg(required = true, num_args = 1..)]
        conids: Vec<i64>,
        /// Field ids (comma list); default: last, bid, ask, sizes, volume, OHLC, change.
        #[arg(long, value_delimiter = ',')]
        fields: Vec<u16>,
        /// Requests while waiting for data.
        #[arg(long, default_value_t = 5)]
        polls: u32,
        /// Pause between them, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
    },
    /// Historical bars.
    History {
        conid: i64,
        /// 1min 2min 3min 5min 10min 15min 30min 1h 2h 3h 4h 8h 1d 1w 1m.
        #[arg(long, default_value = "1min")]
        bar: String,
        /// {n}{min|h|d|w|m|y}.
        #[arg(long, default_value = "1d")]
        period: String,
        /// Write the bars to FILE.csv or FILE.parquet.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        exchange: Option<String>,
        #[arg(long)]
        outside_rth: bool,
        /// Last (default), Midpoint or Bid_Ask.
        #[arg(long)]
        source: Option<String>,
    },
    /// Live orders of the session.
    Orders {
        /// Status filters (comma list: submitted, filled, cancelled, …).
        #[arg(long, value_delimiter = ',')]
        filters: Vec<String>,
    },
    /// Positions of an account.
    Positions {
        #[arg(long)]
        account: Option<String>,
    },
    /// Partitioned P&L.
    Pnl,
    /// Place an order (asks for confirmation unless --yes).
    Place(PlaceArgs),
    /// Cancel an order (asks for confirmation unless --yes).
    Cancel {
        order_id: i64,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        yes: bool,
    },
    /// The implemented endpoint table.
    Endpoints,
    /// OAuth third party, step 1: obtain a request token.
    OauthRequestToken {
        /// `oob` or a callback URL.
        #[arg(long, default_value = "oob")]
        callback: String,
    },
    /// OAuth third party, step 2: the URL where the user authorises the request token.
    OauthAuthorizeUrl { request_token: String },
    /// OAuth third party, step 3: exchange the authorised token and verifier for an access
    /// token.
    OauthAccessToken {
        #[arg(long)]
        request_token: String,
        #[arg(long)]
        verifier: String,
    },
}

/// Options of `tickline ibkr place`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlaceArgs {
    /// Account (default: the session's selected account).
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub conid: i64,
    /// buy or sell.
    #[arg(long)]
    pub side: String,
    #[arg(long)]
    pub qty: Decimal,
    /// LMT, MKT, STP, STOP_LIMIT, MIDPRICE, TRAIL, TRAILLMT.
    #[arg(long = "type", default_value = "LMT")]
    pub order_type: String,
    #[arg(long)]
    pub price: Option<Decimal>,
    /// Stop trigger of a STOP_LIMIT.
    #[arg(long)]
    pub aux_price: Option<Decimal>,
    /// Trailing amount (TRAIL / TRAILLMT).
    #[arg(long)]
    pub trailing_amt: Option<Decimal>,
    /// Trailing amount is a percentage.
    #[arg(long)]
    pub trailing_percent: bool,
    #[arg(long, default_value = "DAY")]
    pub tif: String,
    /// Client order id (default: generated).
    #[arg(long)]
    pub coid: Option<String>,
    #[arg(long)]
    pub outside_rth: bool,
    /// Required for US futures: the order was entered by a human.
    #[arg(long)]
    pub manual: bool,
    /// Do not ask; IBKR questions are confirmed only when all their ids are in --accept.
    #[arg(long)]
    pub yes: bool,
    /// Question ids to confirm without asking (comma list, e.g. o163,o354).
    #[arg(long, value_delimiter = ',')]
    pub accept: Vec<String>,
}

/// Run a command, reading confirmations from stdin.
pub async fn run(args: IbkrArgs, out: &mut dyn Write) -> Result<(), IbkrError> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    run_with_input(args, &mut input, out).await
}

/// Run a command with an explicit confirmation input (tests).
pub async fn run_with_input(
    args: IbkrArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), IbkrError> {
    let json = args.json;
    match &args.cmd {
        IbkrCommand::Endpoints => return print_endpoints(json, out),
        IbkrCommand::OauthAuthorizeUrl { request_token } => {
            let url = crate::oauth::authorization_url(request_token)?;
            return emit(
                out,
                json,
                &serde_json::json!({ "url": url.as_str() }),
                || url.to_string(),
            );
        }
        IbkrCommand::OauthRequestToken { callback } => {
            let (client, consumer) = third_party(&args)?;
            let token = client.oauth_request_token(&consumer, callback).await?;
            let url = crate::oauth::authorization_url(&token)?;
            return emit(
                out,
                json,
                &serde_json::json!({ "request_token": token, "authorize_url": url.as_str() }),
                || format!("request token: {token}\nauthorise at: {url}"),
            );
        }
        IbkrCommand::OauthAccessToken {
            request_token,
            verifier,
        } => {
            let (client, consumer) = third_party(&args)?;
            let grant = client
                .oauth_access_token(&consumer, request_token, verifier)
                .await?;
            // The user asked for these credentials; they are printed once, to be stored in
            // the OAuth settings file.
            let value = serde_json::json!({
                "access_token": grant.access_token,
                "access_token_secret": grant.access_token_secret,
                "is_paper": grant.is_paper,
            });
            return emit(out, json, &value, || {
                format!(
                    "access_token = \"{}\"\naccess_token_secret = \"{}\"\n# is_paper = {:?}",
                    grant.access_token, grant.access_token_secret, grant.is_paper
                )
            });
        }
        _ => {}
    }
    let client = build_client(&args)?;
    match args.cmd {
        IbkrCommand::Status => status(&client, json, out).await,
        IbkrCommand::Accounts => accounts(&client, json, out).await,
        IbkrCommand::Search {
            symbol,
            sec_type,
            name,
        } => search(&client, json, out, symbol, sec_type, name).await,
        IbkrCommand::Contract { conid } => {
            let info = client.contract_info(conid).await?;
            emit(out, json, &info, || {
                let v = serde_json::to_value(&info).unwrap_or_default();
                key_value_table(&v)
            })
        }
        IbkrCommand::Snapshot {
            conids,
            fields,
            polls,
            interval_ms,
        } => snapshot(&client, json, out, &conids, &fields, polls, interval_ms).await,
        IbkrCommand::History {
            conid,
            bar,
            period,
            out: file,
            exchange,
            outside_rth,
            source,
        } => {
            let bar: BarSize = bar
                .parse()
                .map_err(|e: marketdata::MarketDataError| invalid("--bar", e.to_string()))?;
            let period: Period = period
                .parse()
                .map_err(|e: marketdata::MarketDataError| invalid("--period", e.to_string()))?;
            if let Some(f) = &file {
                check_output_path(f)?;
            }
            let mut req = HistoryRequest::new(conid, period.to_string(), bar.as_str());
            req.exchange = exchange;
            req.outside_rth = outside_rth.then_some(true);
            req.source = source;
            // Name the bars by symbol when the conid is a known instrument, so the file can be
            // backtested directly; otherwise by conid.
            let symbol = tickline_engine::domain::catalog::builtin_instruments()
                .into_iter()
                .find(|i| i.conid == Some(conid))
                .map_or_else(|| conid.to_string(), |i| i.symbol);
            // The whole period, past IBKR's bars-per-answer limit.
            let paging = crate::HistoryPaging {
                window: Some(period),
                ..crate::HistoryPaging::default()
            };
            let series = client.history_series(&req, paging, &symbol).await?;
            history_output(&series, file.as_deref(), json, out)
        }
        IbkrCommand::Orders { filters } => {
            let orders = client
                .live_orders(&LiveOrdersQuery {
                    filters,
                    ..Default::default()
                })
                .await?;
            emit(out, json, &orders, || {
                let rows = orders
                    .orders
                    .iter()
                    .map(|o| {
                        vec![
                            opt(o.order_id),
                            o.ticker.clone().unwrap_or_default(),
                            o.side.clone().unwrap_or_default(),
                            opt(o.total_size),
                            opt(o.filled_quantity),
                            o.order_type.clone().unwrap_or_default(),
                            opt(o.price),
                            opt(o.avg_price),
                            o.status.clone().unwrap_or_default(),
                            o.order_ref.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "order id",
                        "ticker",
                        "side",
                        "size",
                        "filled",
                        "type",
                        "price",
                        "avg price",
                        "status",
                        "cOID",
                    ],
                    rows,
                )
            })
        }
        IbkrCommand::Positions { account } => {
            let account = match account {
                Some(a) => a,
                None => portfolio_account(&client).await?,
            };
            let positions = client.all_positions(&account).await?;
            emit(out, json, &positions, || {
                let rows = positions
                    .iter()
                    .map(|p| {
                        vec![
                            opt(p.conid),
                            p.ticker
                                .clone()
                                .or_else(|| p.contract_desc.clone())
                                .unwrap_or_default(),
                            opt(p.position),
                            opt(p.avg_price),
                            opt(p.mkt_price),
                            opt(p.mkt_value),
                            opt(p.unrealized_pnl),
                            p.currency.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "conid",
                        "symbol",
                        "position",
                        "avg price",
                        "mkt price",
                        "mkt value",
                        "unrealized",
                        "ccy",
                    ],
                    rows,
                )
            })
        }
        IbkrCommand::Pnl => {
            let pnl = client.pnl_partitioned().await?;
            emit(out, json, &pnl, || {
                let rows = pnl
                    .upnl
                    .iter()
                    .map(|(k, r)| {
                        vec![
                            k.clone(),
                            opt(r.dpl),
                            opt(r.upl),
                            opt(r.nl),
                            opt(r.el),
                            opt(r.mv),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "account",
                        "daily P&L",
                        "unrealized",
                        "net liq",
                        "excess liq",
                        "mkt value",
                    ],
                    rows,
                )
            })
        }
        IbkrCommand::Place(place_args) => place(&client, json, input, out, place_args).await,
        IbkrCommand::Cancel {
            order_id,
            account,
            yes,
        } => {
            let account = match account {
                Some(a) => a,
                None => trading_account(&client).await?,
            };
            if !yes
                && !confirm(
                    input,
                    out,
                    &format!("Cancel order {order_id} of {account}? [y/N] "),
                )?
            {
                writeln!(out, "not cancelled")?;
                return Ok(());
            }
            let resp = client.cancel_order(&account, order_id).await?;
            emit(out, json, &resp, || {
                format!(
                    "{} (order {})",
                    resp.msg.as_deref().unwrap_or("cancel requested"),
                    opt(resp.order_id)
                )
            })
        }
        IbkrCommand::Endpoints
        | IbkrCommand::OauthAuthorizeUrl { .. }
        | IbkrCommand::OauthRequestToken { .. }
        | IbkrCommand::OauthAccessToken { .. } => Ok(()),
    }
}

/// Build the client the arguments describe: OAuth when a settings file is given (its
/// `base_url`, overridden by `--base-url` / `IBKR_BASE_URL`), else the gateway at
/// `--base-url` (default `https://localhost:5000/v1/api`).
pub fn build_client(args: &IbkrArgs) -> Result<Client, IbkrError> {
    client_for(
        args.base_url.as_deref(),
        args.oauth_config.as_deref(),
        args.insecure_tls,
        |_, _| {},
    )
}

/// The client for a gateway at `base_url` (default `https://localhost:5000/v1/api`) or, with
/// an OAuth settings file, for OAuth 1.0a (`base_url` overriding the file's). `adjust` tunes
/// the client and session settings before the client is built.
pub fn client_for(
    base_url: Option<&str>,
    oauth_config: Option<&std::path::Path>,
    insecure_tls: bool,
    adjust: impl FnOnce(&mut ClientConfig, &mut SessionConfig),
) -> Result<Client, IbkrError> {
    crate::install_crypto_provider();
    let (mut cc, auth) = match oauth_config {
        Some(path) => {
            let base_override = base_url.map(str::to_string);
            let config = OAuthConfig::from_env_or_file_with(Some(path), |name| {
                if name == crate::oauth::ENV_BASE_URL {
                    base_override.clone()
                } else {
                    std::env::var(name).ok()
                }
            })?;
            let session = OAuthSession::from_config(config)?;
            (
                ClientConfig::oauth(session.base_url().clone()),
                Auth::OAuth(Arc::new(session)),
            )
        }
        None => {
            let base = base_url.unwrap_or(DEFAULT_GATEWAY_URL);
            (
                ClientConfig::gateway(ClientConfig::parse_base_url(base)?),
                Auth::Gateway,
            )
        }
    };
    cc.insecure_tls = insecure_tls;
    let mut session = SessionConfig::default();
    adjust(&mut cc, &mut session);
    Client::builder(cc, auth).session_config(session).build()
}

fn third_party(args: &IbkrArgs) -> Result<(Client, Consumer), IbkrError> {
    crate::install_crypto_provider();
    let consumer = Consumer::from_env_or_file(args.oauth_config.as_deref())?;
    let base = match &args.base_url {
        Some(b) => ClientConfig::parse_base_url(b)?,
        None => consumer.base_url().clone(),
    };
    let mut cc = ClientConfig::oauth(base);
    cc.insecure_tls = args.insecure_tls;
    Ok((Client::gateway(cc)?, consumer))
}

fn invalid(what: &'static str, reason: impl Into<String>) -> IbkrError {
    IbkrError::InvalidInput {
        what,
        reason: reason.into(),
    }
}

async fn status(client: &Client, json: bool, out: &mut dyn Write) -> Result<(), IbkrError> {
    let tickle = client.tickle().await?;
    let auth = match tickle.auth_status() {
        Some(a) => a.clone(),
        None => client.auth_status().await?,
    };
    let state = client.session_status().state;
    let value = serde_json::json!({
        "state": state.as_str(),
        "sso_expires_ms": tickle.sso_expires_ms,
        "user_id": tickle.user_id,
        "auth": auth,
    });
    emit(out, json, &value, || {
        let server = auth.server_info.clone().unwrap_or_default();
        table(
            &["field", "value"],
            vec![
                vec!["state".into(), state.to_string()],
                vec!["authenticated".into(), auth.authenticated.to_string()],
                vec!["connected".into(), auth.connected.to_string()],
                vec!["competing".into(), auth.competing.to_string()],
                vec!["established".into(), auth.established.to_string()],
                vec!["message".into(), auth.message.clone()],
                vec!["fail".into(), auth.fail.clone()],
                vec![
                    "SSO expires in".into(),
                    tickle
                        .sso_expires_ms
                        .map(|ms| format!("{} s", ms / 1000))
                        .unwrap_or_default(),
                ],
                vec!["server".into(), server.server_name.unwrap_or_default()],
            ],
        )
    })
}

async fn accounts(client: &Client, json: bool, out: &mut dyn Write) -> Result<(), IbkrError> {
    let accounts = client.connect().await?;
    emit(out, json, &accounts, || {
        let selected = accounts.selected_account.clone().unwrap_or_default();
        let rows = accounts
            .accounts
            .iter()
            .map(|a| {
                vec![
                    a.clone(),
                    accounts.aliases.get(a).cloned().unwrap_or_default(),
                    if *a == selected {
                        "*".into()
                    } else {
                        String::new()
                    },
                    opt(accounts.is_paper),
                ]
            })
            .collect();
        table(&["account", "alias", "selected", "paper"], rows)
    })
}

async fn search(
    client: &Client,
    json: bool,
    out: &mut dyn Write,
    symbol: String,
    sec_type: Option<String>,
    name: bool,
) -> Result<(), IbkrError> {
    let mut req = SecdefSearchRequest::symbol(symbol);
    req.sec_type = sec_type;
    req.name = name.then_some(true);
    let results = client.search_contracts(&req).await?;
    emit(out, json, &results, || {
        let rows = results
            .iter()
            .map(|r| {
                vec![
                    opt(r.conid),
                    r.symbol.clone().unwrap_or_default(),
                    r.company_name
                        .clone()
                        .or_else(|| r.company_header.clone())
                        .unwrap_or_default(),
                    r.description.clone().unwrap_or_default(),
                    r.sections
                        .iter()
                        .filter_map(|s| s.sec_type.clone())
                        .collect::<Vec<_>>()
                        .join(","),
                ]
            })
            .collect();
        table(&["conid", "symbol", "name", "exchange", "types"], rows)
    })
}

#[allow(clippy::too_many_arguments)]
async fn snapshot(
    client: &Client,
    json: bool,
    out: &mut dyn Write,
    conids: &[i64],
    fields: &[u16],
    polls: u32,
    interval_ms: u64,
) -> Result<(), IbkrError> {
    let fields: Vec<Field> = if fields.is_empty() {
        DEFAULT_FIELDS.to_vec()
    } else {
        fields
            .iter()
            .map(|id| {
                Field::from_id(*id)
                    .ok_or_else(|| invalid("--fields", format!("unknown field id {id}")))
            })
            .collect::<Result<_, _>>()?
    };
    let snaps = client
        .snapshot_ready(conids, &fields, polls, Duration::from_millis(interval_ms))
        .await?;
    emit(out, json, &snaps, || snapshot_table(&snaps))
}

fn snapshot_table(snaps: &[Snapshot]) -> String {
    let rows = snaps
        .iter()
        .map(|s| {
            if s.is_preflight() {
                return vec![
                    s.conid.to_string(),
                    s.raw(Field::Symbol).unwrap_or_default().to_string(),
                    "(no data yet)".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ];
            }
            vec![
                s.conid.to_string(),
                s.raw(Field::Symbol).unwrap_or_default().to_string(),
                s.raw(Field::Last).unwrap_or_default().to_string(),
                s.raw(Field::Bid).unwrap_or_default().to_string(),
                s.raw(Field::Ask).unwrap_or_default().to_string(),
                format!(
                    "{}/{}",
                    s.raw(Field::BidSize).unwrap_or_default(),
                    s.raw(Field::AskSize).unwrap_or_default()
                ),
                s.raw(Field::Volume).unwrap_or_default().to_string(),
                s.raw(Field::Availability).unwrap_or_default().to_string(),
            ]
        })
        .collect();
    table(
        &[
            "conid", "symbol", "last", "bid", "ask", "sizes", "volume", "data",
        ],
        rows,
    )
}

/// Writes bars to a Parquet file (the binary registers one backed by `tickline-data`, so this
/// crate does not depend on polars).
pub type ParquetWriter = fn(&BarSeries, &Path) -> Result<(), String>;

static PARQUET_WRITER: std::sync::OnceLock<ParquetWriter> = std::sync::OnceLock::new();

/// Enable `history --out FILE.parquet` with `writer` (first registration wins).
pub fn set_parquet_writer(writer: ParquetWriter) {
    let _ = PARQUET_WRITER.set(writer);
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn check_output_path(path: &Path) -> Result<(), IbkrError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(ext) if ext == "csv" => Ok(()),
        Some(ext) if ext == "parquet" && PARQUET_WRITER.get().is_some() => Ok(()),
        Some(ext) if ext == "parquet" => Err(invalid(
            "--out",
            format!(
                "{}: Parquet output is not available from `tickline ibkr history` yet; use a .csv file",
                path.display()
            ),
        )),
        _ => Err(invalid(
            "--out",
            format!("{}: the file must end in .csv", path.display()),
        )),
    }
}

fn history_output(
    series: &BarSeries,
    file: Option<&Path>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), IbkrError> {
    if let Some(path) = file {
        match PARQUET_WRITER.get() {
            Some(write) if is_parquet(path) => {
                write(series, path).map_err(|e| invalid("--out", e))?;
            }
            _ => {
                let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
                marketdata::write_bars_csv(series, &mut f)?;
                f.flush()?;
            }
        }
        let summary =
            serde_json::json!({ "bars": series.len(), "file": path.display().to_string() });
        return emit(out, json, &summary, || {
            format!("wrote {} bars to {}", series.len(), path.display())
        });
    }
    if json {
        let bars: Vec<serde_json::Value> = (0..series.len())
            .map(|i| {
                serde_json::json!({
                    "ts": chrono::DateTime::from_timestamp_nanos(series.ts[i]).to_rfc3339(),
                    "open": series.open[i], "high": series.high[i], "low": series.low[i],
                    "close": series.close[i], "volume": series.volume[i],
                })
            })
            .collect();
        return emit(out, true, &bars, String::new);
    }
    let mut csv = Vec::new();
    marketdata::write_bars_csv(series, &mut csv)?;
    let text = String::from_utf8_lossy(&csv);
    let rows = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    writeln!(
        out,
        "{}",
        table(
            &["ts (UTC)", "open", "high", "low", "close", "volume"],
            rows
        )
    )?;
    Ok(())
}

async fn place(
    client: &Client,
    json: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    args: PlaceArgs,
) -> Result<(), IbkrError> {
    let side = match args.side.to_ascii_lowercase().as_str() {
        "buy" | "b" => Side::Buy,
        "sell" | "s" => Side::Sell,
        other => return Err(invalid("--side", format!("{other:?} is not buy or sell"))),
    };
    let order_type = OrderType::parse(&args.order_type).ok_or_else(|| {
        invalid(
            "--type",
            format!("{:?} is not an order type", args.order_type),
        )
    })?;
    let tif = Tif::parse(&args.tif)
        .ok_or_else(|| invalid("--tif", format!("{:?} is not a TIF", args.tif)))?;
    let mut ticket = OrderTicket::new(args.conid, side, args.qty, order_type, tif);
    ticket.price = args.price;
    ticket.aux_price = args.aux_price;
    ticket.trailing_amt = args.trailing_amt;
    if args.trailing_amt.is_some() {
        ticket.trailing_type = Some(if args.trailing_percent {
            TrailingType::Percent
        } else {
            TrailingType::Amount
        });
    }
    ticket.outside_rth = args.outside_rth.then_some(true);
    ticket.manual_indicator = args.manual.then_some(true);
    ticket.c_oid = Some(args.coid.clone().unwrap_or_else(crate::generate_coid));
    ticket
        .validate()
        .map_err(|reason| invalid("order", reason))?;
    let account = match &args.account {
        Some(a) => a.clone(),
        None => trading_account(client).await?,
    };
    ticket.acct_id = Some(account.clone());
    let summary = format!(
        "{} {} {} conid {}{} {} on {} (cOID {})",
        side,
        args.qty,
        order_type.as_str(),
        args.conid,
        args.price.map(|p| format!(" @ {p}")).unwrap_or_default(),
        tif.as_str(),
        account,
        ticket.c_oid.as_deref().unwrap_or_default()
    );
    if !args.yes && !confirm(input, out, &format!("Place: {summary}? [y/N] "))? {
        writeln!(out, "not placed")?;
        return Ok(());
    }
    let outcome = if args.yes {
        let mut policy = crate::prompts::AllowList::new(args.accept.iter().cloned());
        client
            .place_orders_confirming(&account, std::slice::from_ref(&ticket), &mut policy)
            .await?
    } else {
        let mut policy = Interactive {
            input,
            out: &mut *out,
            accept: args.accept.clone(),
            io_error: None,
        };
        let outcome = client
            .place_orders_confirming(&account, std::slice::from_ref(&ticket), &mut policy)
            .await?;
        if let Some(e) = policy.io_error {
            return Err(IbkrError::Io(e));
        }
        outcome
    };
    report_outcome(&outcome, json, out)
}

fn report_outcome(
    outcome: &PlaceOutcome,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), IbkrError> {
    match outcome {
        PlaceOutcome::Placed(acks) => emit(out, json, outcome, || {
            let rows = acks
                .iter()
                .map(|a| vec![a.order_id.to_string(), a.order_status.clone()])
                .collect();
            table(&["order id", "status"], rows)
        }),
        PlaceOutcome::RejectPrompt(p) => emit(out, json, outcome, || {
            format!(
                "IBKR prompt {}: {}\noptions: {}\n(answer with the order's prompt in the IBKR UI or POST /iserver/notification)",
                p.message_id.as_deref().unwrap_or(""),
                p.text,
                p.options.join(" | ")
            )
        }),
        PlaceOutcome::Error(message) => Err(IbkrError::Api {
            endpoint: crate::error::EndpointRef::new(
                catalog::PLACE_ORDERS.method,
                catalog::PLACE_ORDERS.path,
            ),
            message: message.clone(),
        }),
        PlaceOutcome::Question(p) => Err(IbkrError::InvalidInput {
            what: "order",
            reason: format!(
                "unanswered question {}: {}",
                p.reply_id,
                p.messages.join(" ")
            ),
        }),
    }
}

/// Asks on the terminal for each question not pre-accepted.
struct Interactive<'a> {
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    accept: Vec<String>,
    io_error: Option<std::io::Error>,
}

impl PromptPolicy for Interactive<'_> {
    fn confirm(&mut self, prompt: &Prompt) -> bool {
        let all = std::iter::once(prompt).chain(prompt.more.iter());
        let pre_accepted = all
            .clone()
            .flat_map(|p| p.message_ids.iter())
            .all(|id| self.accept.contains(id))
            && !prompt.message_ids.is_empty();
        if pre_accepted {
            return true;
        }
        let mut text = String::new();
        for p in all {
            for (i, m) in p.messages.iter().enumerate() {
                let id = p.message_ids.get(i).map(String::as_str).unwrap_or("?");
                text.push_str(&format!("IBKR asks [{id}]: {}\n", m.trim()));
            }
        }
        text.push_str("Confirm? [y/N] ");
        match confirm(self.input, self.out, &text) {
            Ok(yes) => yes,
            Err(e) => {
                self.io_error = Some(e);
                false
            }
        }
    }
}

/// Print `question` and read a yes/no answer (default no).
fn confirm(input: &mut dyn BufRead, out: &mut dyn Write, question: &str) -> std::io::Result<bool> {
    write!(out, "{question}")?;
    out.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The account to trade: the session's selected account.
async fn trading_account(client: &Client) -> Result<String, IbkrError> {
    let accounts = client.prime().await?;
    accounts
        .default_account()
        .map(str::to_string)
        .ok_or_else(|| invalid("--account", "the session lists no account; pass --account"))
}

/// The account to show positions for: the only portfolio account.
async fn portfolio_account(client: &Client) -> Result<String, IbkrError> {
    let accounts = client.portfolio_accounts().await?;
    let ids: Vec<&str> = accounts.iter().filter_map(|a| a.account()).collect();
    match ids.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(invalid("--account", "no portfolio account; pass --account")),
        many => Err(invalid(
            "--account",
            format!("several accounts ({}); pass --account", many.join(", ")),
        )),
    }
}

fn print_endpoints(json: bool, out: &mut dyn Write) -> Result<(), IbkrError> {
    #[derive(Serialize)]
    struct Row {
        method: &'static str,
        path: String,
        category: &'static str,
        group: &'static str,
        typing: &'static str,
        function: &'static str,
        spec: &'static str,
    }
    let rows: Vec<Row> = CATALOG
        .iter()
        .map(|e| Row {
            method: e.method.as_str(),
            path: match e.base {
                Base::Trading => format!("/v1/api{}", e.path),
                Base::Root => e.path.to_string(),
            },
            category: e.category,
            group: e.group,
            typing: e.typing.as_str(),
            function: e.function,
            spec: e.availability.as_str(),
        })
        .collect();
    emit(out, json, &rows, || {
        let typed = rows.iter().filter(|r| r.typing == "typed").count();
        let body = rows
            .iter()
            .map(|r| {
                vec![
                    r.method.to_string(),
                    r.path.clone(),
                    format!("{} › {}", r.category, r.group),
                    r.typing.to_string(),
                    r.function.to_string(),
                    r.spec.to_string(),
                ]
            })
            .collect();
        format!(
            "{}\n{} endpoints ({} typed, {} raw)",
            table(
                &[
                    "method",
                    "path",
                    "category",
                    "typing",
                    "client method",
                    "spec"
                ],
                body
            ),
            rows.len(),
            typed,
            rows.len() - typed
        )
    })
}

/// Write `value` as pretty JSON, or the human text.
fn emit<T: Serialize + ?Sized>(
    out: &mut dyn Write,
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
) -> Result<(), IbkrError> {
    if json {
        let text = serde_json::to_string_pretty(value).map_err(|e| IbkrError::InvalidInput {
            what: "JSON output",
            reason: e.to_string(),
        })?;
        writeln!(out, "{text}")?;
    } else {
        writeln!(out, "{}", human())?;
    }
    Ok(())
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

fn key_value_table(v: &serde_json::Value) -> String {
    let rows = match v {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                vec![
                    k.clone(),
                    match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                ]
            })
            .collect(),
        other => vec![vec!["value".into(), other.to_string()]],
    };
    table(&["field", "value"], rows)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        ibkr: IbkrArgs,
    }

    #[test]
    fn parses_commands() {
        let cli = Cli::try_parse_from([
            "t",
            "--base-url",
            "http://127.0.0.1:1/v1/api",
            "--json",
            "history",
            "265598",
            "--bar",
            "5min",
            "--period",
            "2d",
            "--out",
            "x.csv",
        ])
        .expect("parses");
        assert!(cli.ibkr.json);
        match cli.ibkr.cmd {
            IbkrCommand::History {
                conid,
                bar,
                period,
                out,
                ..
            } => {
                assert_eq!(conid, 265598);
                assert_eq!(bar, "5min");
                assert_eq!(period, "2d");
                assert_eq!(out, Some(PathBuf::from("x.csv")));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "t",
            "place",
            "--conid",
            "1",
            "--side",
            "buy",
            "--qty",
            "10",
            "--price",
            "1.5",
            "--accept",
            "o163,o354",
            "--yes",
        ])
        .expect("parses");
        match cli.ibkr.cmd {
            IbkrCommand::Place(p) => {
                assert_eq!(p.accept, vec!["o163".to_string(), "o354".to_string()]);
                assert!(p.yes);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["t", "snapshot"]).is_err());
    }

    #[test]
    fn output_paths() {
        assert!(check_output_path(Path::new("bars.csv")).is_ok());
        let err = check_output_path(Path::new("bars.parquet")).expect_err("parquet");
        assert!(err.to_string().contains("use a .csv file"));
        assert!(check_output_path(Path::new("bars.txt")).is_err());
    }

    #[test]
    fn endpoint_table_lists_everything() {
        let mut out = Vec::new();
        print_endpoints(true, &mut out).expect("prints");
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out).expect("json");
        assert_eq!(rows.len(), CATALOG.len());
        let mut human = Vec::new();
        print_endpoints(false, &mut human).expect("prints");
        let text = String::from_utf8(human).expect("utf8");
        assert!(text.contains("/v1/api/iserver/account/{accountId}/orders"));
        assert!(text.contains(&format!("{} endpoints", CATALOG.len())));
    }

    #[test]
    fn confirmation_reads_yes() {
        let mut out = Vec::new();
        assert!(confirm(&mut &b"y\n"[..], &mut out, "?").expect("io"));
        assert!(!confirm(&mut &b"\n"[..], &mut out, "?").expect("io"));
        assert!(!confirm(&mut &b""[..], &mut out, "?").expect("io"));
    }
}
