//! Market data responses: historical bars and stream management. Snapshots are parsed by
//! [`crate::marketdata`].

use serde::{Deserialize, Serialize};

use super::lenient;

/// One bar of `/iserver/marketdata/history` / `/hmds/history`: `t` is the bar start in epoch
/// milliseconds (UTC); `o/h/l/c/v` are already in price units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryBar {
    pub o: f64,
    pub h: f64,
    pub l: f64,
    pub c: f64,
    pub v: f64,
    #[serde(deserialize_with = "lenient::i64")]
    pub t: i64,
}

/// `GET /iserver/marketdata/history` (and the `[2.15]` `/hmds/history`, whose extra fields
/// are `startTimeVal`, `endTime`, `endTimeVal`). `points` is one less than the number of bars
/// in IBKR's samples; use `data.len()`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResponse {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub server_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub price_factor: Option<i64>,
    /// `YYYYMMDD-hh:mm:ss` UTC.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub start_time_val: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub end_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub end_time_val: Option<i64>,
    /// Chart string `"<price*priceFactor>/<volume>/<minutes offset>"`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub high: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub low: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub time_period: Option<String>,
    /// Bar length in seconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub bar_length: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub md_availability: Option<String>,
    /// Milliseconds (900 000 = delayed).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub mkt_data_delay: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub outside_rth: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub volume_factor: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub price_display_rule: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub price_display_value: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub chart_pan_start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub direction: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub negative_capable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub message_version: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub travel_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub points: Option<i64>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub data: Vec<HistoryBar>,
}

/// Query of the history endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRequest {
    pub conid: i64,
    /// `{n}{min|h|d|w|m|y}`, e.g. `1d`.
    pub period: String,
    /// `1min`, `5min`, `1h`, `1d`, …
    pub bar: String,
    pub exchange: Option<String>,
    pub outside_rth: Option<bool>,
    /// UTC `YYYYMMDD-hh:mm:ss`.
    pub start_time: Option<String>,
    /// `-1` (bars end at startTime/now) or `1` (forward from startTime).
    pub direction: Option<i32>,
    /// `Last`, `Midpoint`, `Bid_Ask` (iserver) or the `barType` of `/hmds/history`.
    pub source: Option<String>,
}

impl HistoryRequest {
    /// Bars of size `bar` over `period` for `conid`.
    pub fn new(conid: i64, period: impl Into<String>, bar: impl Into<String>) -> Self {
        HistoryRequest {
            conid,
            period: period.into(),
            bar: bar.into(),
            exchange: None,
            outside_rth: None,
            start_time: None,
            direction: None,
            source: None,
        }
    }
}

/// `POST /iserver/marketdata/unsubscribe`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsubscribeResponse {
    #[serde(deserialize_with = "lenient::bool")]
    pub success: bool,
}

/// `GET /iserver/marketdata/unsubscribeall`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsubscribeAllResponse {
    #[serde(deserialize_with = "lenient::bool")]
    pub unsubscribed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;

    #[test]
    fn history_sample() {
        let h: HistoryResponse =
            serde_json::from_str(&sample("marketdata_history.json")).expect("history");
        assert_eq!(h.data.len(), 4);
        assert_eq!(h.points, Some(3));
        assert_eq!(h.bar_length, Some(86400));
        assert_eq!(h.data[0].t, 1747229400000);
        assert_eq!(h.data[3].c, 208.78);
    }
}
