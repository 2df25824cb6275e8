//! Coverage of the reference endpoint list: every endpoint of `ibkr-endpoints.json` is in the
//! catalog with the same method, path, category and group, and every catalog entry's client
//! method really sends that request (checked against a recording server).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use common::{MockServer, Reply};
use serde_json::json;
use tickline_ibkr::catalog::{Base, CATALOG, EndpointSpec, HttpMethod, fill_path};
use tickline_ibkr::marketdata::Field;
use tickline_ibkr::models::*;
use tickline_ibkr::oauth::{self, Consumer, OAuthConfig, OAuthSession};
use tickline_ibkr::{Client, IbkrError};

fn reference_endpoints() -> Vec<serde_json::Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ibkr-endpoints.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", path.display()));
    serde_json::from_str(&text).expect("endpoint list is JSON")
}

#[test]
fn every_reference_endpoint_is_in_the_catalog() {
    let reference = reference_endpoints();
    assert_eq!(reference.len(), 193, "the reference lists 193 endpoints");
    let mut seen = BTreeSet::new();
    for e in &reference {
        let method =
            HttpMethod::parse(e["method"].as_str().expect("method")).expect("known method");
        let path = e["path"].as_str().expect("path");
        let spec = tickline_ibkr::catalog::find(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is missing from the catalog"));
        assert_eq!(
            spec.category,
            e["category"].as_str().expect("category"),
            "{path}"
        );
        assert_eq!(spec.group, e["group"].as_str().expect("group"), "{path}");
        let base = e["base"].as_str().expect("base");
        let expected_base = if base == "/v1/api" {
            Base::Trading
        } else {
            Base::Root
        };
        assert_eq!(spec.base, expected_base, "{path}");
        assert!(
            tickline_ibkr::catalog::by_function(spec.function).is_some(),
            "{path}: function {} not registered",
            spec.function
        );
        seen.insert((method, path.to_string()));
    }
    assert_eq!(
        CATALOG.len(),
        reference.len(),
        "catalog has entries the reference lacks"
    );
    assert_eq!(seen.len(), 193);
}

/// Values used for every path parameter.
const PARAMS: &[(&str, &str)] = &[
    ("accountId", "DU1234567"),
    ("orderId", "111"),
    ("conid", "265598"),
    ("replyId", "r-1"),
    ("alertId", "222"),
    ("searchPattern", "DU12"),
    ("pageId", "0"),
    ("typecode", "BA"),
    ("deviceId", "dev1"),
    ("notificationId", "n1"),
    ("clientInstructionId", "ci1"),
    ("instructionSetId", "is1"),
    ("instructionId", "in1"),
    ("enumerationType", "acats"),
    ("requestId", "req1"),
    ("username", "someone"),
];

const ACCT: &str = "DU1234567";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oauth")
}

fn oauth_client(server: &MockServer) -> Client {
    let mut config =
        OAuthConfig::from_file(&fixtures().join("config.toml")).expect("fixture OAuth config");
    config.base_url = url::Url::parse(&server.base_url()).expect("url");
    let session = OAuthSession::from_config(config).expect("session");
    Client::oauth(common::test_config(server), Arc::new(session)).expect("client")
}

fn consumer(server: &MockServer) -> Consumer {
    let key = oauth::load_private_key(&fixtures().join("signature_key_pkcs8.pem"), "test key")
        .expect("fixture key");
    Consumer::new(
        "TICKLINE1",
        "limited_poa",
        url::Url::parse(&server.base_url()).expect("url"),
        key,
    )
}

fn ticket() -> OrderTicket {
    OrderTicket::limit(
        265598,
        Side::Buy,
        rust_decimal::dec!(1),
        rust_decimal::dec!(100),
    )
    .with_coid("cat-1")
}

/// Call the client method of `spec` with the dummy parameters; the result is irrelevant.
async fn call(client: &Client, oauth: &Client, server: &MockServer, spec: &EndpointSpec) {
    let j = json!({"reqID": 1});
    let q = QueryParams::new().with("k", "v");
    let jwt = SignedJwt("eyJ.test.jwt".into());
    let instr = InstructionRequest {
        instruction_type: "DEPOSIT".into(),
        instruction: json!({"clientInstructionId": 1}),
    };
    let bulk = BulkInstructionRequest {
        instruction_type: "DEPOSIT".into(),
        instructions: vec![json!({})],
    };
    let pa = PaAccountsRequest {
        acct_ids: vec![ACCT.into()],
    };
    let hist = HistoryRequest::new(265598, "1d", "1min");
    let r: Result<(), IbkrError> = match spec.function {
        "am_account_application" => client.am_account_application(&q).await.map(drop),
        "am_submit_application" => client.am_submit_application(&jwt).await.map(drop),
        "am_account_maintenance" => client.am_account_maintenance(&jwt).await.map(drop),
        "am_close_account" => client.am_close_account(&jwt).await.map(drop),
        "am_submit_documents" => client.am_submit_documents(&jwt).await.map(drop),
        "am_login_messages" => client.am_login_messages(&q).await.map(drop),
        "am_accounts_status" => client.am_accounts_status(&q).await.map(drop),
        "am_account_details" => client.am_account_details(ACCT).await.map(drop),
        "am_account_kyc" => client.am_account_kyc(ACCT).await.map(drop),
        "am_account_login_messages" => client.am_account_login_messages(ACCT, &q).await.map(drop),
        "am_account_status" => client.am_account_status(ACCT).await.map(drop),
        "am_update_account_status" => client.am_update_account_status(ACCT, &j).await.map(drop),
        "am_account_tasks" => client.am_account_tasks(ACCT, &q).await.map(drop),
        "am_assign_tasks" => client.am_assign_tasks(ACCT, &j).await.map(drop),
        "am_update_tasks" => client.am_update_tasks(ACCT, &j).await.map(drop),
        "am_bank_instruction" => client.am_bank_instruction(&instr).await.map(drop),
        "am_query_bank_instructions" => client.am_query_bank_instructions(&instr).await.map(drop),
        "am_bank_instructions_bulk" => client.am_bank_instructions_bulk(&bulk).await.map(drop),
        "am_client_instruction_status" => {
            client.am_client_instruction_status("ci1").await.map(drop)
        }
        "am_external_asset_transfer" => client.am_external_asset_transfer(&instr).await.map(drop),
        "am_external_asset_transfers_bulk" => client
            .am_external_asset_transfers_bulk(&bulk)
            .await
            .map(drop),
        "am_external_cash_transfer" => client.am_external_cash_transfer(&instr).await.map(drop),
        "am_query_withdrawable_cash" => client.am_query_withdrawable_cash(&instr).await.map(drop),
        "am_external_cash_transfers_bulk" => client
            .am_external_cash_transfers_bulk(&bulk)
            .await
            .map(drop),
        "am_instruction_set_status" => client.am_instruction_set_status("is1").await.map(drop),
        "am_cancel_instruction" => client.am_cancel_instruction(&instr).await.map(drop),
        "am_cancel_instructions_bulk" => client.am_cancel_instructions_bulk(&bulk).await.map(drop),
        "am_query_recent_instructions" => {
            client.am_query_recent_instructions(&instr).await.map(drop)
        }
        "am_instruction_status" => client.am_instruction_status("in1").await.map(drop),
        "am_internal_asset_transfer" => client.am_internal_asset_transfer(&instr).await.map(drop),
        "am_internal_asset_transfers_bulk" => client
            .am_internal_asset_transfers_bulk(&bulk)
            .await
            .map(drop),
        "am_internal_cash_transfer" => client.am_internal_cash_transfer(&instr).await.map(drop),
        "am_internal_cash_transfers_bulk" => client
            .am_internal_cash_transfers_bulk(&bulk)
            .await
            .map(drop),
        "am_external_asset_transfer_v2" => {
            client.am_external_asset_transfer_v2(&instr).await.map(drop)
        }
        "am_external_asset_transfers_bulk_v2" => client
            .am_external_asset_transfers_bulk_v2(&bulk)
            .await
            .map(drop),
        "am_statement" => client
            .am_statement(&StatementRequest {
                account_id: ACCT.into(),
                start_date: "2024-01-01".into(),
                end_date: "2024-01-31".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "am_available_statements" => client.am_available_statements(ACCT).await.map(drop),
        "am_tax_document" => client
            .am_tax_document(&TaxDocumentRequest {
                account_id: ACCT.into(),
                year: 2023,
                kind: "1099".into(),
                format: "PDF".into(),
                gzip: None,
            })
            .await
            .map(drop),
        "am_available_tax_documents" => client.am_available_tax_documents(&q).await.map(drop),
        "am_trade_confirmations" => client
            .am_trade_confirmations(&TradeConfirmationRequest {
                account_id: ACCT.into(),
                start_date: "2024-01-01".into(),
                end_date: "2024-01-02".into(),
                mime_type: None,
            })
            .await
            .map(drop),
        "am_available_trade_confirmations" => client
            .am_available_trade_confirmations(ACCT)
            .await
            .map(drop),
        "am_complex_asset_transfer_brokers" => {
            client.am_complex_asset_transfer_brokers(&q).await.map(drop)
        }
        "am_enumerations" => client.am_enumerations("acats", &q).await.map(drop),
        "am_set_fee_template" => client.am_set_fee_template(&jwt).await.map(drop),
        "am_query_fee_template" => client.am_query_fee_template(&jwt).await.map(drop),
        "am_forms" => client.am_forms(&q).await.map(drop),
        "am_required_forms" => client.am_required_forms(&q).await.map(drop),
        "am_participating_banks" => client.am_participating_banks(&q).await.map(drop),
        "am_requests" => client.am_requests(&q).await.map(drop),
        "am_request_status" => client.am_request_status("req1", &q).await.map(drop),
        "am_update_request_status" => client.am_update_request_status("req1", &j).await.map(drop),
        "am_validate_username" => client.am_validate_username("someone").await.map(drop),
        "create_sso_browser_session" => client.create_sso_browser_session(&jwt).await.map(drop),
        "create_sso_session" => client.create_sso_session(&jwt).await.map(drop),
        "oauth2_token" => client
            .oauth2_token(&Oauth2TokenRequest::client_credentials("assertion", None))
            .await
            .map(drop),
        "ssodh_init" => client.ssodh_init(true, true).await.map(drop),
        "auth_status" => client.auth_status().await.map(drop),
        "reauthenticate" => client.reauthenticate().await.map(drop),
        "logout" => client.logout().await.map(drop),
        "sso_validate" => client.sso_validate().await.map(drop),
        "tickle" => client.tickle().await.map(drop),
        "signatures_and_owners" => client.signatures_and_owners(ACCT).await.map(drop),
        "switch_account" => client.switch_account(ACCT).await.map(drop),
        "pnl_partitioned" => client.pnl_partitioned().await.map(drop),
        "search_accounts" => client.search_accounts("DU12").await.map(drop),
        "account_summary" => client.account_summary(ACCT).await.map(drop),
        "account_summary_available_funds" => {
            client.account_summary_available_funds(ACCT).await.map(drop)
        }
        "account_summary_balances" => client.account_summary_balances(ACCT).await.map(drop),
        "account_summary_margins" => client.account_summary_margins(ACCT).await.map(drop),
        "account_summary_market_value" => client.account_summary_market_value(ACCT).await.map(drop),
        "accounts" => client.accounts().await.map(drop),
        "set_dynamic_account" => client.set_dynamic_account(ACCT).await.map(drop),
        "portfolio_accounts" => client.portfolio_accounts().await.map(drop),
        "positions_by_conid" => client.positions_by_conid(265598).await.map(drop),
        "portfolio_subaccounts" => client.portfolio_subaccounts().await.map(drop),
        "portfolio_subaccounts_paged" => client.portfolio_subaccounts_paged(&q).await.map(drop),
        "portfolio_allocation" => client.portfolio_allocation(ACCT, None).await.map(drop),
        "combo_positions" => client.combo_positions(ACCT, &q).await.map(drop),
        "ledger" => client.ledger(ACCT).await.map(drop),
        "portfolio_account_meta" => client.portfolio_account_meta(ACCT).await.map(drop),
        "position" => client.position(ACCT, 265598).await.map(drop),
        "invalidate_positions" => client.invalidate_positions(ACCT).await.map(drop),
        "positions_page" => client
            .positions_page(ACCT, 0, &PositionsQuery::default())
            .await
            .map(drop),
        "portfolio_summary" => client.portfolio_summary(ACCT).await.map(drop),
        "positions_uncached" => client.positions_uncached(ACCT, &q).await.map(drop),
        "order_status" => client.order_status(111).await.map(drop),
        "live_orders" => client
            .live_orders(&LiveOrdersQuery::default())
            .await
            .map(drop),
        "trades" => client.trades(Some(1)).await.map(drop),
        "modify_order" => client.modify_order(ACCT, 111, &ticket()).await.map(drop),
        "cancel_order" => client.cancel_order(ACCT, 111).await.map(drop),
        "place_orders" => client.place_orders(ACCT, &[ticket()]).await.map(drop),
        "what_if" => client.what_if(ACCT, &[ticket()]).await.map(drop),
        "answer_notification" => client
            .answer_notification(&NotificationAnswer {
                order_id: 1,
                req_id: "2".into(),
                text: "Do not use".into(),
            })
            .await
            .map(drop),
        "suppress" => client.suppress(&["o163".to_string()]).await.map(drop),
        "suppress_reset" => client.suppress_reset().await.map(drop),
        "reply" => client.reply("r-1", true).await.map(drop),
        "hmds_history" => client.hmds_history(&hist).await.map(drop),
        "history" => client.history(&hist).await.map(drop),
        "snapshot" => client.snapshot(&[265598], &[Field::Last]).await.map(drop),
        "unsubscribe_market_data" => client.unsubscribe_market_data(265598).await.map(drop),
        "unsubscribe_all_market_data" => client.unsubscribe_all_market_data().await.map(drop),
        "regulatory_snapshot" => client.regulatory_snapshot(265598).await.map(drop),
        "contract_trading_schedule" => client
            .contract_trading_schedule(265598, None)
            .await
            .map(drop),
        "contract_rules" => client
            .contract_rules(&ContractRulesRequest {
                conid: 265598,
                is_buy: Some(true),
                modify_order: None,
                order_id: None,
            })
            .await
            .map(drop),
        "contract_algos" => client
            .contract_algos(265598, None, true, true)
            .await
            .map(drop),
        "contract_info" => client.contract_info(265598).await.map(drop),
        "contract_info_and_rules" => client.contract_info_and_rules(265598, None).await.map(drop),
        "currency_pairs" => client.currency_pairs("USD").await.map(drop),
        "exchange_rate" => client.exchange_rate("USD", "EUR").await.map(drop),
        "bond_filters" => client.bond_filters("BOND", "e1234567").await.map(drop),
        "secdef_info" => client
            .secdef_info(&SecdefInfoQuery::default())
            .await
            .map(drop),
        "search_contracts" => client
            .search_contracts(&SecdefSearchRequest::symbol("IBM"))
            .await
            .map(drop),
        "search_contracts_post" => client
            .search_contracts_post(&SecdefSearchRequest::symbol("IBM"))
            .await
            .map(drop),
        "strikes" => client
            .strikes(&StrikesQuery {
                conid: 265598,
                sectype: "OPT".into(),
                month: "JAN25".into(),
                exchange: None,
            })
            .await
            .map(drop),
        "all_conids" => client.all_conids("NYSE", None).await.map(drop),
        "futures" => client.futures(&["ES"], None).await.map(drop),
        "secdef" => client.secdef(&[265598]).await.map(drop),
        "secdef_schedule" => client
            .secdef_schedule("STK", "IBM", None, None)
            .await
            .map(drop),
        "stocks" => client.stocks(&["IBM"]).await.map(drop),
        "forecast_category_tree" => client.forecast_category_tree().await.map(drop),
        "forecast_contract_details" => client.forecast_contract_details(1).await.map(drop),
        "forecast_contract_market" => client.forecast_contract_market(1, None).await.map(drop),
        "forecast_contract_rules" => client.forecast_contract_rules(1).await.map(drop),
        "forecast_contract_schedules" => client.forecast_contract_schedules(1).await.map(drop),
        "alert" => client.alert(222).await.map(drop),
        "mta_alert" => client.mta_alert().await.map(drop),
        "upsert_alert" => client
            .upsert_alert(
                ACCT,
                &AlertRequest {
                    alert_name: "a".into(),
                    alert_message: "m".into(),
                    tif: "GTC".into(),
                    conditions: vec![AlertCondition {
                        conidex: "265598@SMART".into(),
                        kind: 1,
                        operator: ">=".into(),
                        trigger_method: "0".into(),
                        value: "200".into(),
                        logic_bind: "n".into(),
                        time_zone: None,
                    }],
                    ..Default::default()
                },
            )
            .await
            .map(drop),
        "activate_alert" => client.activate_alert(ACCT, 222, true).await.map(drop),
        "delete_alert" => client.delete_alert(ACCT, 222).await.map(drop),
        "alerts" => client.alerts(ACCT).await.map(drop),
        "fa_preset_get" => client.fa_preset_get(&j).await.map(drop),
        "fa_preset_save" => client.fa_preset_save(&j).await.map(drop),
        "fa_model_accounts_details" => client.fa_model_accounts_details(&j).await.map(drop),
        "fa_model_invest_divest" => client.fa_model_invest_divest(&j).await.map(drop),
        "fa_model_invest_divest_positions" => {
            client.fa_model_invest_divest_positions(&j).await.map(drop)
        }
        "fa_model_list" => client.fa_model_list(&j).await.map(drop),
        "fa_model_positions" => client.fa_model_positions(&j).await.map(drop),
        "fa_model_save" => client.fa_model_save(&j).await.map(drop),
        "fa_model_submit_transfers" => client.fa_model_submit_transfers(&j).await.map(drop),
        "fa_model_summary" => client.fa_model_summary(&j).await.map(drop),
        "allocation_accounts" => client.allocation_accounts().await.map(drop),
        "allocation_groups" => client.allocation_groups().await.map(drop),
        "create_allocation_group" => client
            .create_allocation_group(&AllocationGroup {
                name: "g".into(),
                default_method: "E".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "modify_allocation_group" => client
            .modify_allocation_group(&AllocationGroup {
                name: "g".into(),
                prev_name: Some("f".into()),
                default_method: "E".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "delete_allocation_group" => client.delete_allocation_group("g").await.map(drop),
        "allocation_group" => client.allocation_group("g").await.map(drop),
        "allocation_presets" => client.allocation_presets().await.map(drop),
        "set_allocation_presets" => client
            .set_allocation_presets(&AllocationPresets::default())
            .await
            .map(drop),
        "fyi_delivery_options" => client.fyi_delivery_options().await.map(drop),
        "fyi_set_device_delivery" => client
            .fyi_set_device_delivery(&FyiDeviceRequest::default())
            .await
            .map(drop),
        "fyi_set_email_delivery" => client.fyi_set_email_delivery(true).await.map(drop),
        "fyi_delete_device" => client.fyi_delete_device("dev1").await.map(drop),
        "fyi_disclaimer" => client.fyi_disclaimer("BA").await.map(drop),
        "fyi_accept_disclaimer" => client.fyi_accept_disclaimer("BA").await.map(drop),
        "fyi_notifications" => client
            .fyi_notifications(&FyiNotificationsQuery {
                max: 10,
                include: None,
                exclude: None,
                id: None,
            })
            .await
            .map(drop),
        "fyi_mark_notification_read" => client.fyi_mark_notification_read("n1").await.map(drop),
        "fyi_settings" => client.fyi_settings().await.map(drop),
        "fyi_set_setting" => client.fyi_set_setting("BA", true).await.map(drop),
        "fyi_unread_count" => client.fyi_unread_count().await.map(drop),
        "oauth_access_token" => client
            .oauth_access_token(&consumer(server), "e0d75b4c5c1d2c0f2af7", "verifier")
            .await
            .map(drop),
        "oauth_live_session_token" => oauth.oauth_live_session_token().await.map(drop),
        "oauth_request_token" => client
            .oauth_request_token(&consumer(server), "oob")
            .await
            .map(drop),
        "pa_allocation" => client.pa_allocation(&pa).await.map(drop),
        "pa_all_periods" => client.pa_all_periods(&pa, None).await.map(drop),
        "pa_performance" => client
            .pa_performance(&PaPerformanceRequest {
                acct_ids: vec![ACCT.into()],
                period: "1M".into(),
            })
            .await
            .map(drop),
        "pa_transactions" => client
            .pa_transactions(&PaTransactionsRequest {
                acct_ids: vec![ACCT.into()],
                conids: vec![265598],
                currency: None,
                days: Some(30),
            })
            .await
            .map(drop),
        "hmds_scanner_params" => client.hmds_scanner_params().await.map(drop),
        "hmds_scanner_run" => client
            .hmds_scanner_run(&HmdsScannerRequest::default())
            .await
            .map(drop),
        "scanner_params" => client.scanner_params().await.map(drop),
        "scanner_run" => client
            .scanner_run(&ScannerRequest {
                instrument: "STK".into(),
                scan_type: "TOP_PERC_GAIN".into(),
                location: "STK.US.MAJOR".into(),
                filter: vec![],
            })
            .await
            .map(drop),
        "watchlist" => client.watchlist("1234").await.map(drop),
        "create_watchlist" => client
            .create_watchlist(&WatchlistRequest {
                id: "1234".into(),
                name: "w".into(),
                rows: vec![WatchlistRow::Contract(8314)],
            })
            .await
            .map(drop),
        "delete_watchlist" => client.delete_watchlist("1234").await.map(drop),
        "watchlists" => client.watchlists(Some("USER_WATCHLIST")).await.map(drop),
        "ws_config" => {
            let mut cfg = client.ws_config();
            cfg.connect_timeout = std::time::Duration::from_secs(5);
            tickline_ibkr::ws::WsClient::connect(cfg)
                .await
                .map(drop)
                .map_err(IbkrError::from)
        }
        "echo_https" => client.echo_https(&q).await.map(drop),
        "echo_signed_jwt" => client.echo_signed_jwt(&jwt).await.map(drop),
        "restrictions_apply" => client.restrictions_apply(&j).await.map(drop),
        "restrictions_for_account" => client.restrictions_for_account(&q).await.map(drop),
        "restriction_ids" => client.restriction_ids(&q).await.map(drop),
        "restriction_list" => client.restriction_list(&q).await.map(drop),
        "restriction_list_ids" => client.restriction_list_ids(&q).await.map(drop),
        "restriction" => client.restriction(&q).await.map(drop),
        "restriction_scope" => client.restriction_scope(&q).await.map(drop),
        "restrictions_for_user" => client.restrictions_for_user(&q).await.map(drop),
        "restrictions_verify" => client.restrictions_verify(&j).await.map(drop),
        "third_party_cash_balances" => client.third_party_cash_balances(&j).await.map(drop),
        "tax_voucher_create" => client.tax_voucher_create(&j).await.map(drop),
        "tax_voucher_active_countries" => client.tax_voucher_active_countries(&q).await.map(drop),
        "tax_voucher_dividends" => client.tax_voucher_dividends(&q).await.map(drop),
        "tax_voucher_years" => client.tax_voucher_years(&q).await.map(drop),
        "tax_voucher_download" => client.tax_voucher_download("req1").await.map(drop),
        "tax_voucher_state" => client.tax_voucher_state("req1").await.map(drop),
        other => panic!("the catalog test has no call for {other}; add one"),
    };
    // Answers are `{}`; typed calls may fail to decode, which is fine here. What matters is
    // that no input validation refused the call.
    if let Err(IbkrError::InvalidInput { what, reason }) = &r {
        panic!("{}: invalid input {what}: {reason}", spec.function);
    }
}

#[tokio::test]
async fn every_catalog_entry_sends_its_request() {
    let server = MockServer::with_session().await;
    server.fallback(|_| Reply::json("{}"));
    let client = common::client(&server);
    let oauth = oauth_client(&server);
    for spec in CATALOG {
        server.clear_log();
        call(&client, &oauth, &server, spec).await;
        let path = fill_path(spec.path, PARAMS).expect("dummy parameters cover every path");
        let expected = match spec.base {
            Base::Trading => format!("/v1/api{path}"),
            Base::Root => path,
        };
        let method = spec.method.as_str();
        assert!(
            server
                .requests()
                .iter()
                .any(|r| r.method == method && r.path == expected),
            "{}: expected {method} {expected}, server saw {:?}",
            spec.function,
            server
                .requests()
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>()
        );
    }
}
