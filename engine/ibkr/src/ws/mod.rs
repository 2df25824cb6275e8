//! Streaming websocket client for the IBKR Web API (`/ws`).
