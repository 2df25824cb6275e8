//! Trading › Websocket: `GET /ws` is the upgrade; [`Client::ws_config`] builds its settings
//! (URL, session cookie or OAuth token) for [`crate::ws`].

use crate::client::Client;
use crate::error::IbkrError;

impl Client {
    /// [`Client::ws_config`] after a `/tickle`, so the session id for the `api` cookie is
    /// known.
    pub async fn ws_config_fresh(&self) -> Result<crate::ws::WsConfig, IbkrError> {
        self.tickle().await?;
        Ok(self.ws_config())
    }
}
