//! The `tickline gateway` command: arguments and `serve`.

use std::io::Write;
use std::path::PathBuf;

use tokio::net::TcpListener;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::server::run;

/// `tickline gateway [--config FILE] [--port 5000] [--tls] [--seed N] [--data FILE…]`
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct GatewayArgs {
    /// Gateway configuration (TOML; see config/gateway.toml). Defaults apply without it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one; the URL is printed).
    #[arg(long, default_value_t = 5000)]
    pub port: u16,
    /// Serve HTTPS/WSS with a self-signed certificate, like the real gateway.
    #[arg(long)]
    pub tls: bool,
    /// Seed of prices, ids and injected faults (overrides the config).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replay these bar files (CSV / Parquet) instead of simulating prices.
    #[arg(long = "data", value_name = "FILE", num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// OAuth 1.0a mode: keys and tokens in DIR (generated when missing), every request
    /// verified as IBKR does; DIR/ibkr_oauth.toml is the client's `--oauth-config`.
    #[arg(long, value_name = "DIR")]
    pub oauth: Option<PathBuf>,
}

/// The configuration the arguments describe.
pub fn config_from_args(args: &GatewayArgs) -> Result<GatewayConfig, GatewayError> {
    let mut cfg = match &args.config {
        Some(p) => GatewayConfig::from_file(p)?,
        None => GatewayConfig::default(),
    };
    if args.tls {
        cfg.tls = true;
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if !args.data.is_empty() {
        cfg.market.data = args.data.clone();
    }
    if let Some(dir) = &args.oauth {
        cfg.oauth = Some(dir.clone());
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Bind 127.0.0.1:`port`, print the base URL and serve until Ctrl-C.
pub async fn serve(args: GatewayArgs) -> Result<(), GatewayError> {
    let cfg = config_from_args(&args)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| GatewayError::io(format!("bind 127.0.0.1:{}", args.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| GatewayError::io("local address", e))?;
    let (http, ws) = if cfg.tls {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    if let Some(dir) = &cfg.oauth {
        // Generate (or check) the material before the address is announced, so a client
        // that starts on the "listening" line finds the settings files; serving reuses it.
        crate::oauth::load_or_create(dir, &format!("{http}://{addr}/v1/api"))?;
    }
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "tickline gateway listening on {http}://{addr}/v1/api (websocket {ws}://{addr}/v1/api/ws, control {http}://{addr}/control/state)"
    );
    if let Some(dir) = &cfg.oauth {
        let _ = writeln!(
            out,
            "OAuth 1.0a: every request is verified; client settings in {} (ibind: {})",
            dir.join("ibkr_oauth.toml").display(),
            dir.join("ibind.env").display()
        );
    }
    let _ = out.flush();
    run(listener, cfg, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: GatewayArgs,
    }

    #[test]
    fn flags_override_the_config() {
        let cli = Cli::try_parse_from(["gateway"]).unwrap();
        assert_eq!(cli.args.port, 5000);
        assert_eq!(
            config_from_args(&cli.args).unwrap(),
            GatewayConfig::default()
        );
        let cli = Cli::try_parse_from([
            "gateway",
            "--port",
            "0",
            "--tls",
            "--seed",
            "9",
            "--data",
            "a.csv",
            "b.parquet",
        ])
        .unwrap();
        let cfg = config_from_args(&cli.args).unwrap();
        assert_eq!((cli.args.port, cfg.tls, cfg.seed), (0, true, 9));
        assert_eq!(
            cfg.market.data,
            [PathBuf::from("a.csv"), PathBuf::from("b.parquet")]
        );
        let cli = Cli::try_parse_from(["gateway", "--config", "/no/such/file.toml"]).unwrap();
        let err = config_from_args(&cli.args).unwrap_err();
        assert!(err.to_string().contains("/no/such/file.toml"), "{err}");
    }
}
