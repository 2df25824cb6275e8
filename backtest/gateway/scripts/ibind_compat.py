#!/usr/bin/env python3
"""Drive the Tickline gateway emulator with ibind (the popular third-party IBKR Web API
client from PyPI), unchanged, as it would drive IBKR's Client Portal Gateway.

Usage: ibind_compat.py REST_URL WS_URL [ACCOUNT]
       ibind_compat.py --oauth [ACCOUNT]
  REST_URL  e.g. https://127.0.0.1:5000/v1/api/
  WS_URL    e.g. wss://127.0.0.1:5000/v1/api/ws
  --oauth   ibind's own OAuth 1.0a mode against `tickline gateway --oauth DIR`: every setting
            (URLs, consumer key, access token and secret, keys, DH prime, realm) comes from the
            IBIND_* variables of DIR/ibind.env, exported before this script starts (ibind reads
            them at import). ibind verifies TLS in OAuth mode, so the emulator runs plain http.

Checks: auth status + brokerage session (OAuth: the live session token, its validation and
every request signed), accounts, contract search, snapshot (pre-flight then values), history,
place / modify / cancel through the question-reply flow, positions, and websocket market
data, orders, P&L, the separate `sts` frames and pushed `ntf` / `blt` messages. Exits 1 on
the first failure.
"""

import json
import os
import sys
import time
import urllib.request
import warnings

warnings.filterwarnings("ignore")  # self-signed certificate: requests warns on every call

from ibind import IbkrClient, IbkrWsClient, OrderRequest, QueueSink, QuestionType, events  # noqa: E402
from ibind.subscriptions import MarketDataSubscription, OrdersSubscription, PnlSubscription  # noqa: E402

AAPL = 265598
CHECKS = 0


def check(cond, what, detail=None):
    global CHECKS
    if not cond:
        print(f"FAIL: {what}" + (f": {detail!r}" if detail is not None else ""), flush=True)
        sys.exit(1)
    CHECKS += 1
    print(f"ok   {what}", flush=True)


def wait_event(sink, event_type, what, timeout=15.0, pred=lambda e: True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ev = sink.get(event_type, block=True, timeout=0.5)
        if ev is not None and pred(ev):
            return ev
    check(False, what, f"no {event_type.__name__} event within {timeout}s")


def control(rest_url, path, body):
    """POST to the emulator's control endpoint (outside /v1/api, unsigned, plain http only:
    the OAuth run is the only one that pushes through it)."""
    base = rest_url.rstrip("/").removesuffix("/v1/api")
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def main():
    oauth = len(sys.argv) > 1 and sys.argv[1] == "--oauth"
    if oauth:
        rest_url, ws_url = os.environ["IBIND_OAUTH1A_REST_URL"], os.environ["IBIND_OAUTH1A_WS_URL"]
        account = sys.argv[2] if len(sys.argv) > 2 else "DU1234567"
        # The constructor performs the OAuth handshake: live session token, its validation,
        # the tickler and the brokerage session.
        client = IbkrClient(account_id=account, use_oauth=True, auto_register_shutdown=False, timeout=10)
        check(client.live_session_token is not None, "OAuth live session token obtained and validated")
    else:
        rest_url, ws_url = sys.argv[1], sys.argv[2]
        account = sys.argv[3] if len(sys.argv) > 3 else "DU1234567"
        client = IbkrClient(url=rest_url, account_id=account, cacert=False, auto_register_shutdown=False, timeout=10)

    # --- session -------------------------------------------------------------------------
    check(client.check_health(), "check_health (tickle) reports a healthy session")
    init = client.initialize_brokerage_session(compete=True).data
    check(init.get("authenticated") is True, "ssodh/init: authenticated", init)
    check(client.check_auth_status(), "auth status: authenticated, connected, not competing")
    check("session" in client.tickle().data, "tickle returns the session id")

    # --- accounts ------------------------------------------------------------------------
    acc = client.receive_brokerage_accounts().data
    check(account in acc.get("accounts", []), "/iserver/accounts lists the paper account", acc)
    pacc = client.portfolio_accounts().data
    check(pacc and pacc[0]["accountId"] == account, "/portfolio/accounts", pacc)
    check(client.switch_account(account).data.get("set") is True, "switch account")

    # --- contracts -----------------------------------------------------------------------
    found = client.search_contract_by_symbol("AAPL").data
    check(found and str(found[0]["conid"]) == str(AAPL), "secdef search AAPL", found)
    conids = client.stock_conid_by_symbol("AAPL").data
    check(conids.get("AAPL") == AAPL, "trsrv/stocks conid lookup", conids)
    info = client.contract_information_by_conid(str(AAPL)).data
    check(info.get("symbol") == "AAPL", "contract info", info)
    rules = client.info_and_rules_by_conid(str(AAPL), True).data
    check("rules" in rules, "info and rules", rules)

    # --- market data ---------------------------------------------------------------------
    check(client.marketdata_unsubscribe_all().data.get("unsubscribed") is True, "unsubscribe all streams")
    first = client.live_marketdata_snapshot(str(AAPL), ["31", "84", "86"]).data
    check(first and "31" not in first[0], "first snapshot is a pre-flight", first)
    time.sleep(0.5)
    snap = client.live_marketdata_snapshot(str(AAPL), ["31", "84", "86"]).data
    check(snap and "31" in snap[0], "second snapshot has the last price", snap)
    last = float(snap[0]["31"].lstrip("CH").replace(",", ""))
    hist = client.marketdata_history_by_conid(str(AAPL), bar="5min", period="1d", outside_rth=True).data
    check(len(hist.get("data", [])) > 10, "history bars", {k: v for k, v in hist.items() if k != "data"})

    # --- orders through the question / reply flow -----------------------------------------
    answers = {
        QuestionType.PRICE_PERCENTAGE_CONSTRAINT: True,
        QuestionType.ORDER_VALUE_LIMIT: True,
        QuestionType.MARKET_ORDER_CONFIRMATION: True,
        QuestionType.MISSING_MARKET_DATA: True,
        QuestionType.STOP_ORDER_RISKS: True,
    }
    far = round(last * 0.9, 2)  # 10 % away: the emulator asks o163 first
    coid = f"ibind-{int(time.time() * 1000)}"
    placed = client.place_order(
        OrderRequest(conid=AAPL, side="BUY", quantity=10, order_type="LMT", price=far, acct_id=account, coid=coid, tif="GTC"),
        answers,
    ).data
    check(isinstance(placed, dict) and "order_id" in placed, "place order answered through the reply flow", placed)
    order_id = placed["order_id"]
    modified = client.modify_order(
        order_id,
        OrderRequest(conid=AAPL, side="BUY", quantity=10, order_type="LMT", price=round(last * 0.91, 2), acct_id=account, tif="GTC"),
        answers,
    ).data
    check(isinstance(modified, dict) and str(modified.get("order_id")) == str(order_id), "modify order", modified)
    status = client.order_status(order_id).data
    check(status.get("limit_price") == f"{round(last * 0.91, 2):.2f}", "order status shows the new price", status)
    # IBKR answers the first /iserver/account/orders of a session with an empty list while it
    # builds the snapshot; clients ask again (as ibind's docs advise). The emulator does the same.
    live = client.live_orders().data
    if not live.get("orders"):
        time.sleep(0.2)
        live = client.live_orders().data
    check(any(str(o["orderId"]) == str(order_id) for o in live.get("orders", [])), "live orders list it", live)
    cancelled = client.cancel_order(order_id).data
    check(cancelled.get("msg") == "Request was submitted", "cancel order", cancelled)
    check(client.order_status(order_id).data.get("order_status") == "Cancelled", "order cancelled")

    bought = client.place_order(
        OrderRequest(conid=AAPL, side="BUY", quantity=5, order_type="MKT", acct_id=account, tif="DAY"), answers
    ).data
    check(isinstance(bought, dict) and "order_id" in bought, "market order placed", bought)
    time.sleep(0.5)
    client.invalidate_backend_portfolio_cache(account)
    positions = client.positions(account).data
    check(any(p["conid"] == AAPL and p["position"] >= 5 for p in positions), "positions show the fill", positions)
    trades = client.trades().data
    check(any(t["conid"] == AAPL for t in trades), "trades list the execution", trades)
    summary = client.portfolio_summary(account).data
    check(summary["netliquidation"]["amount"] > 0, "portfolio summary")
    ledger = client.get_ledger(account).data
    check("BASE" in ledger, "ledger")

    # --- websocket -----------------------------------------------------------------------
    sink = QueueSink()
    if oauth:
        ws = IbkrWsClient(url=ws_url, account_id=account, ibkr_client=client, sink=sink, use_oauth=True,
                          access_token=os.environ["IBIND_OAUTH1A_ACCESS_TOKEN"])
    else:
        ws = IbkrWsClient(url=ws_url, account_id=account, ibkr_client=client, cacert=False, sink=sink)
    check(ws.start(), "websocket connected and authenticated")
    try:
        # IBKR sends `authenticated` and `competing` as separate `sts` frames.
        auth = wait_event(sink, events.AuthenticationStatus, "sts frame: authenticated",
                          pred=lambda e: e.authenticated is not None)
        check(auth.authenticated is True and auth.competing is None, "sts frame: authenticated, alone", auth.data)
        comp = wait_event(sink, events.AuthenticationStatus, "sts frame: competing",
                          pred=lambda e: e.competing is not None)
        check(comp.competing is False, "sts frame: not competing, alone", comp.data)
        ws.subscribe(MarketDataSubscription(conid=str(AAPL), fields=["31", "84", "86"]))
        md = wait_event(sink, events.MarketData, "websocket market data")
        check(str(md.conid) == str(AAPL), "smd frame for AAPL", md)
        ws.subscribe(PnlSubscription())
        pnl = wait_event(sink, events.Pnl, "websocket P&L")
        check(f"{account}.Core" in pnl.data.get("args", {}), "spl frame for the account", pnl.data)
        ws.subscribe(OrdersSubscription())
        time.sleep(0.5)
        client.place_order(
            OrderRequest(conid=AAPL, side="SELL", quantity=5, order_type="MKT", acct_id=account, tif="DAY"), answers
        )
        ev = wait_event(sink, events.Orders, "websocket order update", pred=lambda e: len(e.data.get("args", [])) > 0)
        check(ev.data["topic"] == "sor", "sor frame", ev.data)
        if oauth:
            # ibind 0.2.2 iterates `ntf` args: it reads IBKR's array form, and drops the object
            # form (a validation error in its router), so the array form is what it is shown.
            notice = {"id": "INDICATIVE_DATA_SUGGESTION", "text": "CFD quotes reference the underlying", "title": "Warning"}
            check(control(rest_url, "/control/ws/ntf", [notice]) == 200, "ntf pushed")
            ntf = wait_event(sink, events.Notification, "websocket ntf notice")
            check(ntf.data.get("id") == "INDICATIVE_DATA_SUGGESTION", "ntf notice read", ntf.data)
            check(control(rest_url, "/control/ws/blt", {"id": "B7", "message": "NYSE delayed"}) == 200, "blt pushed")
            blt = wait_event(sink, events.Bulletin, "websocket blt bulletin")
            check("NYSE delayed" in json.dumps(blt.data), "blt bulletin read", blt.data)
    finally:
        ws.shutdown()
    if oauth:
        client.stop_tickler()

    print(f"ibind compatibility: {CHECKS} checks passed", flush=True)


if __name__ == "__main__":
    main()
