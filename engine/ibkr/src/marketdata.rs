//! Market data: the snapshot field ids as a typed enum, snapshot parsing (display strings
//! such as `"1,300"`, `"21.4M"`, `"C189.60"`), the pre-flight rule, and conversion of
//! historical bars into the engine's [`Bar`] / [`BarSeries`].

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use chrono::{DateTime, Months, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use tickline_engine::domain::{Bar, BarSeries, InstrumentId, Tick, Ts};

use crate::models::HistoryResponse;
use crate::models::lenient::parse_decimal_str;

/// Snapshot / `smd` field ids (reference §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Field {
    /// `31`: last price (may carry a C/H prefix).
    Last = 31,
    /// `55`: symbol.
    Symbol = 55,
    /// `58`: text.
    Text = 58,
    /// `70`: day high.
    High = 70,
    /// `71`: day low.
    Low = 71,
    /// `73`: market value of your position.
    MarketValue = 73,
    /// `74`: average price of your position.
    AvgPrice = 74,
    /// `75`: unrealized P&L.
    UnrealizedPnl = 75,
    /// `76`: formatted position.
    FormattedPosition = 76,
    /// `77`: formatted unrealized P&L.
    FormattedUnrealizedPnl = 77,
    /// `78`: daily P&L.
    DailyPnl = 78,
    /// `79`: realized P&L.
    RealizedPnl = 79,
    /// `80`: unrealized P&L %.
    UnrealizedPnlPercent = 80,
    /// `82`: change vs prior close.
    Change = 82,
    /// `83`: change % vs prior close.
    ChangePercent = 83,
    /// `84`: bid.
    Bid = 84,
    /// `85`: ask size.
    AskSize = 85,
    /// `86`: ask.
    Ask = 86,
    /// `87`: volume (formatted, K/M).
    Volume = 87,
    /// `88`: bid size.
    BidSize = 88,
    /// `201`: right (P/C).
    Right = 201,
    /// `6004`: exchange.
    Exchange = 6004,
    /// `6008`: conid.
    Conid = 6008,
    /// `6070`: sec type.
    SecType = 6070,
    /// `6072`: months.
    Months = 6072,
    /// `6073`: regular expiry.
    RegularExpiry = 6073,
    /// `6119`: delivery marker (like a request id).
    Marker = 6119,
    /// `6457`: underlying conid.
    UnderlyingConid = 6457,
    /// `6508`: service params.
    ServiceParams = 6508,
    /// `6509`: market data availability.
    Availability = 6509,
    /// `7051`: company name.
    CompanyName = 7051,
    /// `7057`: ask exchange codes.
    AskExchanges = 7057,
    /// `7058`: last exchange codes.
    LastExchanges = 7058,
    /// `7059`: last size.
    LastSize = 7059,
    /// `7068`: bid exchange codes.
    BidExchanges = 7068,
    /// `7084`: implied vol / historical vol %.
    ImpliedVolHistVolPercent = 7084,
    /// `7085`: put/call open-interest ratio.
    PutCallOpenInterestRatio = 7085,
    /// `7086`: put/call volume ratio.
    PutCallVolumeRatio = 7086,
    /// `7087`: historical vol % (30 d).
    HistVol30d = 7087,
    /// `7088`: historical vol % based on close.
    HistVolClose = 7088,
    /// `7089`: option volume.
    OptionVolume = 7089,
    /// `7094`: conid + exchange.
    ConidExchange = 7094,
    /// `7184`: can be traded (1/0).
    CanBeTraded = 7184,
    /// `7219`: contract description.
    ContractDescription = 7219,
    /// `7220`: contract description (alt).
    ContractDescriptionAlt = 7220,
    /// `7221`: listing exchange.
    ListingExchange = 7221,
    /// `7280`: industry.
    Industry = 7280,
    /// `7281`: category.
    Category = 7281,
    /// `7282`: average volume (90 d).
    AverageVolume90d = 7282,
    /// `7283`: option implied vol % (30 d).
    OptionImpliedVol30d = 7283,
    /// `7284`: historical volatility % (deprecated).
    HistoricalVolatility = 7284,
    /// `7285`: put/call ratio.
    PutCallRatio = 7285,
    /// `7286`: dividend amount (next).
    DividendAmount = 7286,
    /// `7287`: dividend yield %.
    DividendYield = 7287,
    /// `7288`: ex-dividend date.
    ExDividendDate = 7288,
    /// `7289`: market cap.
    MarketCap = 7289,
    /// `7290`: P/E.
    PriceEarnings = 7290,
    /// `7291`: EPS.
    Eps = 7291,
    /// `7292`: cost basis.
    CostBasis = 7292,
    /// `7293`: 52-week high.
    High52Week = 7293,
    /// `7294`: 52-week low.
    Low52Week = 7294,
    /// `7295`: open.
    Open = 7295,
    /// `7296`: close (today's).
    Close = 7296,
    /// `7308`: delta.
    Delta = 7308,
    /// `7309`: gamma.
    Gamma = 7309,
    /// `7310`: theta.
    Theta = 7310,
    /// `7311`: vega.
    Vega = 7311,
    /// `7607`: option volume change %.
    OptionVolumeChangePercent = 7607,
    /// `7633`: implied vol % of this option strike.
    ImpliedVolStrike = 7633,
    /// `7635`: mark price.
    Mark = 7635,
    /// `7636`: shortable shares.
    ShortableShares = 7636,
    /// `7637`: borrow fee rate.
    BorrowFeeRate = 7637,
    /// `7638`: option open interest.
    OptionOpenInterest = 7638,
    /// `7639`: % of account mark value.
    PercentOfMarkValue = 7639,
    /// `7644`: shortable (difficulty level).
    Shortable = 7644,
    /// `7655`: Morningstar rating.
    MorningstarRating = 7655,
    /// `7671`: dividends (next 12 m).
    DividendsNext12m = 7671,
    /// `7672`: dividends TTM.
    DividendsTtm = 7672,
    /// `7674`: EMA(200).
    Ema200 = 7674,
    /// `7675`: EMA(100).
    Ema100 = 7675,
    /// `7676`: EMA(50).
    Ema50 = 7676,
    /// `7677`: EMA(20).
    Ema20 = 7677,
    /// `7678`: price/EMA(200) − 1.
    PriceToEma200 = 7678,
    /// `7679`: price/EMA(100) − 1.
    PriceToEma100 = 7679,
    /// `7724`: price/EMA(50) − 1.
    PriceToEma50 = 7724,
    /// `7681`: price/EMA(20) − 1.
    PriceToEma20 = 7681,
    /// `7682`: change since open.
    ChangeSinceOpen = 7682,
    /// `7683`: upcoming event (WSH).
    UpcomingEvent = 7683,
    /// `7684`: upcoming event date.
    UpcomingEventDate = 7684,
    /// `7685`: upcoming analyst meeting.
    UpcomingAnalystMeeting = 7685,
    /// `7686`: upcoming earnings.
    UpcomingEarnings = 7686,
    /// `7687`: upcoming misc event.
    UpcomingMiscEvent = 7687,
    /// `7688`: recent analyst meeting.
    RecentAnalystMeeting = 7688,
    /// `7689`: recent earnings.
    RecentEarnings = 7689,
    /// `7690`: recent misc event.
    RecentMiscEvent = 7690,
    /// `7694`: probability of max return.
    ProbabilityMaxReturn = 7694,
    /// `7695`: break even.
    BreakEven = 7695,
    /// `7696`: SPX delta (beta weighted).
    SpxDelta = 7696,
    /// `7697`: futures open interest.
    FuturesOpenInterest = 7697,
    /// `7698`: last yield (bonds).
    LastYield = 7698,
    /// `7699`: bid yield.
    BidYield = 7699,
    /// `7700`: probability of max return (2).
    ProbabilityMaxReturn2 = 7700,
    /// `7702`: probability of max loss.
    ProbabilityMaxLoss = 7702,
    /// `7703`: profit probability.
    ProfitProbability = 7703,
    /// `7704`: organization type.
    OrganizationType = 7704,
    /// `7705`: debt class.
    DebtClass = 7705,
    /// `7706`: ratings.
    Ratings = 7706,
    /// `7707`: bond state code.
    BondStateCode = 7707,
    /// `7708`: bond type.
    BondType = 7708,
    /// `7714`: last trading date.
    LastTradingDate = 7714,
    /// `7715`: issue date.
    IssueDate = 7715,
    /// `7720`: ask yield.
    AskYield = 7720,
    /// `7741`: prior close.
    PriorClose = 7741,
    /// `7762`: volume (exact, long).
    VolumeLong = 7762,
    /// `7768`: has trading permissions (1/0).
    HasTradingPermissions = 7768,
    /// `7920`: daily P&L raw.
    DailyPnlRaw = 7920,
    /// `7921`: cost basis raw.
    CostBasisRaw = 7921,
    /// `7943`: rebate rate.
    RebateRate = 7943,
}

impl Field {
    /// Every field, in id order of the reference table.
    pub const ALL: &'static [Field] = &[
        Field::Last,
        Field::Symbol,
        Field::Text,
        Field::High,
        Field::Low,
        Field::MarketValue,
        Field::AvgPrice,
        Field::UnrealizedPnl,
        Field::FormattedPosition,
        Field::FormattedUnrealizedPnl,
        Field::DailyPnl,
        Field::RealizedPnl,
        Field::UnrealizedPnlPercent,
        Field::Change,
        Field::ChangePercent,
        Field::Bid,
        Field::AskSize,
        Field::Ask,
        Field::Volume,
        Field::BidSize,
        Field::Right,
        Field::Exchange,
        Field::Conid,
        Field::SecType,
        Field::Months,
        Field::RegularExpiry,
        Field::Marker,
        Field::UnderlyingConid,
        Field::ServiceParams,
        Field::Availability,
        Field::CompanyName,
        Field::AskExchanges,
        Field::LastExchanges,
        Field::LastSize,
        Field::BidExchanges,
        Field::ImpliedVolHistVolPercent,
        Field::PutCallOpenInterestRatio,
        Field::PutCallVolumeRatio,
        Field::HistVol30d,
        Field::HistVolClose,
        Field::OptionVolume,
        Field::ConidExchange,
        Field::CanBeTraded,
        Field::ContractDescription,
        Field::ContractDescriptionAlt,
        Field::ListingExchange,
        Field::Industry,
        Field::Category,
        Field::AverageVolume90d,
        Field::OptionImpliedVol30d,
        Field::HistoricalVolatility,
        Field::PutCallRatio,
        Field::DividendAmount,
        Field::DividendYield,
        Field::ExDividendDate,
        Field::MarketCap,
        Field::PriceEarnings,
        Field::Eps,
        Field::CostBasis,
        Field::High52Week,
        Field::Low52Week,
        Field::Open,
        Field::Close,
        Field::Delta,
        Field::Gamma,
        Field::Theta,
        Field::Vega,
        Field::OptionVolumeChangePercent,
        Field::ImpliedVolStrike,
        Field::Mark,
        Field::ShortableShares,
        Field::BorrowFeeRate,
        Field::OptionOpenInterest,
        Field::PercentOfMarkValue,
        Field::Shortable,
        Field::MorningstarRating,
        Field::DividendsNext12m,
        Field::DividendsTtm,
        Field::Ema200,
        Field::Ema100,
        Field::Ema50,
        Field::Ema20,
        Field::PriceToEma200,
        Field::PriceToEma100,
        Field::PriceToEma50,
        Field::PriceToEma20,
        Field::ChangeSinceOpen,
        Field::UpcomingEvent,
        Field::UpcomingEventDate,
        Field::UpcomingAnalystMeeting,
        Field::UpcomingEarnings,
        Field::UpcomingMiscEvent,
        Field::RecentAnalystMeeting,
        Field::RecentEarnings,
        Field::RecentMiscEvent,
        Field::ProbabilityMaxReturn,
        Field::BreakEven,
        Field::SpxDelta,
        Field::FuturesOpenInterest,
        Field::LastYield,
        Field::BidYield,
        Field::ProbabilityMaxReturn2,
        Field::ProbabilityMaxLoss,
        Field::ProfitProbability,
        Field::OrganizationType,
        Field::DebtClass,
        Field::Ratings,
        Field::BondStateCode,
        Field::BondType,
        Field::LastTradingDate,
        Field::IssueDate,
        Field::AskYield,
        Field::PriorClose,
        Field::VolumeLong,
        Field::HasTradingPermissions,
        Field::DailyPnlRaw,
        Field::CostBasisRaw,
        Field::RebateRate,
    ];

    /// Numeric id.
    pub fn id(self) -> u16 {
        self as u16
    }

    /// The field with this id.
    pub fn from_id(id: u16) -> Option<Field> {
        match id {
            31 => Some(Field::Last),
            55 => Some(Field::Symbol),
            58 => Some(Field::Text),
            70 => Some(Field::High),
            71 => Some(Field::Low),
            73 => Some(Field::MarketValue),
            74 => Some(Field::AvgPrice),
            75 => Some(Field::UnrealizedPnl),
            76 => Some(Field::FormattedPosition),
            77 => Some(Field::FormattedUnrealizedPnl),
            78 => Some(Field::DailyPnl),
            79 => Some(Field::RealizedPnl),
            80 => Some(Field::UnrealizedPnlPercent),
            82 => Some(Field::Change),
            83 => Some(Field::ChangePercent),
            84 => Some(Field::Bid),
            85 => Some(Field::AskSize),
            86 => Some(Field::Ask),
            87 => Some(Field::Volume),
            88 => Some(Field::BidSize),
            201 => Some(Field::Right),
            6004 => Some(Field::Exchange),
            6008 => Some(Field::Conid),
            6070 => Some(Field::SecType),
            6072 => Some(Field::Months),
            6073 => Some(Field::RegularExpiry),
            6119 => Some(Field::Marker),
            6457 => Some(Field::UnderlyingConid),
            6508 => Some(Field::ServiceParams),
            6509 => Some(Field::Availability),
            7051 => Some(Field::CompanyName),
            7057 => Some(Field::AskExchanges),
            7058 => Some(Field::LastExchanges),
            7059 => Some(Field::LastSize),
            7068 => Some(Field::BidExchanges),
            7084 => Some(Field::ImpliedVolHistVolPercent),
            7085 => Some(Field::PutCallOpenInterestRatio),
            7086 => Some(Field::PutCallVolumeRatio),
            7087 => Some(Field::HistVol30d),
            7088 => Some(Field::HistVolClose),
            7089 => Some(Field::OptionVolume),
            7094 => Some(Field::ConidExchange),
            7184 => Some(Field::CanBeTraded),
            7219 => Some(Field::ContractDescription),
            7220 => Some(Field::ContractDescriptionAlt),
            7221 => Some(Field::ListingExchange),
            7280 => Some(Field::Industry),
            7281 => Some(Field::Category),
            7282 => Some(Field::AverageVolume90d),
            7283 => Some(Field::OptionImpliedVol30d),
            7284 => Some(Field::HistoricalVolatility),
            7285 => Some(Field::PutCallRatio),
            7286 => Some(Field::DividendAmount),
            7287 => Some(Field::DividendYield),
            7288 => Some(Field::ExDividendDate),
            7289 => Some(Field::MarketCap),
            7290 => Some(Field::PriceEarnings),
            7291 => Some(Field::Eps),
            7292 => Some(Field::CostBasis),
            7293 => Some(Field::High52Week),
            7294 => Some(Field::Low52Week),
            7295 => Some(Field::Open),
            7296 => Some(Field::Close),
            7308 => Some(Field::Delta),
            7309 => Some(Field::Gamma),
            7310 => Some(Field::Theta),
            7311 => Some(Field::Vega),
            7607 => Some(Field::OptionVolumeChangePercent),
            7633 => Some(Field::ImpliedVolStrike),
            7635 => Some(Field::Mark),
            7636 => Some(Field::ShortableShares),
            7637 => Some(Field::BorrowFeeRate),
            7638 => Some(Field::OptionOpenInterest),
            7639 => Some(Field::PercentOfMarkValue),
            7644 => Some(Field::Shortable),
            7655 => Some(Field::MorningstarRating),
            7671 => Some(Field::DividendsNext12m),
            7672 => Some(Field::DividendsTtm),
            7674 => Some(Field::Ema200),
            7675 => Some(Field::Ema100),
            7676 => Some(Field::Ema50),
            7677 => Some(Field::Ema20),
            7678 => Some(Field::PriceToEma200),
            7679 => Some(Field::PriceToEma100),
            7724 => Some(Field::PriceToEma50),
            7681 => Some(Field::PriceToEma20),
            7682 => Some(Field::ChangeSinceOpen),
            7683 => Some(Field::UpcomingEvent),
            7684 => Some(Field::UpcomingEventDate),
            7685 => Some(Field::UpcomingAnalystMeeting),
            7686 => Some(Field::UpcomingEarnings),
            7687 => Some(Field::UpcomingMiscEvent),
            7688 => Some(Field::RecentAnalystMeeting),
            7689 => Some(Field::RecentEarnings),
            7690 => Some(Field::RecentMiscEvent),
            7694 => Some(Field::ProbabilityMaxReturn),
            7695 => Some(Field::BreakEven),
            7696 => Some(Field::SpxDelta),
            7697 => Some(Field::FuturesOpenInterest),
            7698 => Some(Field::LastYield),
            7699 => Some(Field::BidYield),
            7700 => Some(Field::ProbabilityMaxReturn2),
            7702 => Some(Field::ProbabilityMaxLoss),
            7703 => Some(Field::ProfitProbability),
            7704 => Some(Field::OrganizationType),
            7705 => Some(Field::DebtClass),
            7706 => Some(Field::Ratings),
            7707 => Some(Field::BondStateCode),
            7708 => Some(Field::BondType),
            7714 => Some(Field::LastTradingDate),
            7715 => Some(Field::IssueDate),
            7720 => Some(Field::AskYield),
            7741 => Some(Field::PriorClose),
            7762 => Some(Field::VolumeLong),
            7768 => Some(Field::HasTradingPermissions),
            7920 => Some(Field::DailyPnlRaw),
            7921 => Some(Field::CostBasisRaw),
            7943 => Some(Field::RebateRate),
            _ => None,
        }
    }

    /// Description from the reference.
    pub fn description(self) -> &'static str {
        match self {
            Field::Last => "last price (may carry a C/H prefix)",
            Field::Symbol => "symbol",
            Field::Text => "text",
            Field::High => "day high",
            Field::Low => "day low",
            Field::MarketValue => "market value of your position",
            Field::AvgPrice => "average price of your position",
            Field::UnrealizedPnl => "unrealized P&L",
            Field::FormattedPosition => "formatted position",
            Field::FormattedUnrealizedPnl => "formatted unrealized P&L",
            Field::DailyPnl => "daily P&L",
            Field::RealizedPnl => "realized P&L",
            Field::UnrealizedPnlPercent => "unrealized P&L %",
            Field::Change => "change vs prior close",
            Field::ChangePercent => "change % vs prior close",
            Field::Bid => "bid",
            Field::AskSize => "ask size",
            Field::Ask => "ask",
            Field::Volume => "volume (formatted, K/M)",
            Field::BidSize => "bid size",
            Field::Right => "right (P/C)",
            Field::Exchange => "exchange",
            Field::Conid => "conid",
            Field::SecType => "sec type",
            Field::Months => "months",
            Field::RegularExpiry => "regular expiry",
            Field::Marker => "delivery marker (like a request id)",
            Field::UnderlyingConid => "underlying conid",
            Field::ServiceParams => "service params",
            Field::Availability => "market data availability",
            Field::CompanyName => "company name",
            Field::AskExchanges => "ask exchange codes",
            Field::LastExchanges => "last exchange codes",
            Field::LastSize => "last size",
            Field::BidExchanges => "bid exchange codes",
            Field::ImpliedVolHistVolPercent => "implied vol / historical vol %",
            Field::PutCallOpenInterestRatio => "put/call open-interest ratio",
            Field::PutCallVolumeRatio => "put/call volume ratio",
            Field::HistVol30d => "historical vol % (30 d)",
            Field::HistVolClose => "historical vol % based on close",
            Field::OptionVolume => "option volume",
            Field::ConidExchange => "conid + exchange",
            Field::CanBeTraded => "can be traded (1/0)",
            Field::ContractDescription => "contract description",
            Field::ContractDescriptionAlt => "contract description (alt)",
            Field::ListingExchange => "listing exchange",
            Field::Industry => "industry",
            Field::Category => "category",
            Field::AverageVolume90d => "average volume (90 d)",
            Field::OptionImpliedVol30d => "option implied vol % (30 d)",
            Field::HistoricalVolatility => "historical volatility % (deprecated)",
            Field::PutCallRatio => "put/call ratio",
            Field::DividendAmount => "dividend amount (next)",
            Field::DividendYield => "dividend yield %",
            Field::ExDividendDate => "ex-dividend date",
            Field::MarketCap => "market cap",
            Field::PriceEarnings => "P/E",
            Field::Eps => "EPS",
            Field::CostBasis => "cost basis",
            Field::High52Week => "52-week high",
            Field::Low52Week => "52-week low",
            Field::Open => "open",
            Field::Close => "close (today's)",
            Field::Delta => "delta",
            Field::Gamma => "gamma",
            Field::Theta => "theta",
            Field::Vega => "vega",
            Field::OptionVolumeChangePercent => "option volume change %",
            Field::ImpliedVolStrike => "implied vol % of this option strike",
            Field::Mark => "mark price",
            Field::ShortableShares => "shortable shares",
            Field::BorrowFeeRate => "borrow fee rate",
            Field::OptionOpenInterest => "option open interest",
            Field::PercentOfMarkValue => "% of account mark value",
            Field::Shortable => "shortable (difficulty level)",
            Field::MorningstarRating => "Morningstar rating",
            Field::DividendsNext12m => "dividends (next 12 m)",
            Field::DividendsTtm => "dividends TTM",
            Field::Ema200 => "EMA(200)",
            Field::Ema100 => "EMA(100)",
            Field::Ema50 => "EMA(50)",
            Field::Ema20 => "EMA(20)",
            Field::PriceToEma200 => "price/EMA(200) − 1",
            Field::PriceToEma100 => "price/EMA(100) − 1",
            Field::PriceToEma50 => "price/EMA(50) − 1",
            Field::PriceToEma20 => "price/EMA(20) − 1",
            Field::ChangeSinceOpen => "change since open",
            Field::UpcomingEvent => "upcoming event (WSH)",
            Field::UpcomingEventDate => "upcoming event date",
            Field::UpcomingAnalystMeeting => "upcoming analyst meeting",
            Field::UpcomingEarnings => "upcoming earnings",
            Field::UpcomingMiscEvent => "upcoming misc event",
            Field::RecentAnalystMeeting => "recent analyst meeting",
            Field::RecentEarnings => "recent earnings",
            Field::RecentMiscEvent => "recent misc event",
            Field::ProbabilityMaxReturn => "probability of max return",
            Field::BreakEven => "break even",
            Field::SpxDelta => "SPX delta (beta weighted)",
            Field::FuturesOpenInterest => "futures open interest",
            Field::LastYield => "last yield (bonds)",
            Field::BidYield => "bid yield",
            Field::ProbabilityMaxReturn2 => "probability of max return (2)",
            Field::ProbabilityMaxLoss => "probability of max loss",
            Field::ProfitProbability => "profit probability",
            Field::OrganizationType => "organization type",
            Field::DebtClass => "debt class",
            Field::Ratings => "ratings",
            Field::BondStateCode => "bond state code",
            Field::BondType => "bond type",
            Field::LastTradingDate => "last trading date",
            Field::IssueDate => "issue date",
            Field::AskYield => "ask yield",
            Field::PriorClose => "prior close",
            Field::VolumeLong => "volume (exact, long)",
            Field::HasTradingPermissions => "has trading permissions (1/0)",
            Field::DailyPnlRaw => "daily P&L raw",
            Field::CostBasisRaw => "cost basis raw",
            Field::RebateRate => "rebate rate",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id())
    }
}

/// Fields the CLI and the engine ask for by default: last, bid, ask, sizes, volume, open,
/// high, low, prior close, change.
pub const DEFAULT_FIELDS: &[Field] = &[
    Field::Last,
    Field::Bid,
    Field::Ask,
    Field::BidSize,
    Field::AskSize,
    Field::LastSize,
    Field::Volume,
    Field::Open,
    Field::High,
    Field::Low,
    Field::PriorClose,
    Field::Change,
    Field::ChangePercent,
    Field::Symbol,
    Field::Availability,
];

/// Comma list of field ids (`31,84,86`).
pub fn field_list(fields: &[Field]) -> String {
    let mut s = String::with_capacity(fields.len() * 5);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&f.id().to_string());
    }
    s
}

/// What the prefix of a last price says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LastKind {
    /// A trade today.
    Trade,
    /// `C` prefix: previous close, no trade today.
    PriorClose,
    /// `H` prefix: trading halted.
    Halted,
}

/// The last price with its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPrice {
    pub price: Decimal,
    pub kind: LastKind,
}

/// First letter of field `6509`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataKind {
    RealTime,
    Delayed,
    Frozen,
    FrozenDelayed,
    NotSubscribed,
    Incomplete,
    VdrExempt,
    Unknown(char),
}

/// Field `6509` decoded (e.g. `RpB` = real-time, consolidated, book).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub kind: DataKind,
    /// `P`: snapshot available.
    pub snapshot: bool,
    /// `p`: consolidated.
    pub consolidated: bool,
    /// `B`: top of book available.
    pub book: bool,
}

impl Availability {
    /// Decode the `6509` string.
    pub fn parse(s: &str) -> Option<Availability> {
        let mut chars = s.chars();
        let kind = match chars.next()? {
            'R' => DataKind::RealTime,
            'D' => DataKind::Delayed,
            'Z' => DataKind::Frozen,
            'Y' => DataKind::FrozenDelayed,
            'N' => DataKind::NotSubscribed,
            'i' => DataKind::Incomplete,
            'v' => DataKind::VdrExempt,
            c => DataKind::Unknown(c),
        };
        let rest: Vec<char> = chars.collect();
        Some(Availability {
            kind,
            snapshot: rest.contains(&'P'),
            consolidated: rest.contains(&'p'),
            book: rest.contains(&'B'),
        })
    }
}

/// Parse a display number: thousands separators, `+`/`-` signs, `%`, `K`/`M`/`B` suffixes and
/// the `C`/`H` prefixes of last prices. `None` for empty or non-numeric text.
pub fn parse_display_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t
        .strip_prefix('C')
        .or_else(|| t.strip_prefix('H'))
        .unwrap_or(t);
    let t = t.strip_suffix('%').unwrap_or(t);
    let (t, mult) = match t.as_bytes().last()? {
        b'K' => (&t[..t.len() - 1], 1e3),
        b'M' => (&t[..t.len() - 1], 1e6),
        b'B' => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let d = parse_decimal_str(t)?;
    let v: f64 = d.try_into().ok()?;
    Some(v * mult)
}

/// Parse a display price exactly (no unit suffixes): `"168.42"`, `"C189.60"`, `"1,300.5"`.
pub fn parse_display_price(s: &str) -> Option<Decimal> {
    let t = s.trim();
    let t = t
        .strip_prefix('C')
        .or_else(|| t.strip_prefix('H'))
        .unwrap_or(t);
    parse_decimal_str(t)
}

/// One conid's snapshot (REST) or market-data frame (`smd` websocket). Field values are
/// kept as the display strings IBKR sends; use the accessors to read numbers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub conid: i64,
    pub conid_ex: Option<String>,
    /// Epoch ms of the last update.
    pub updated_ms: Option<i64>,
    pub server_id: Option<String>,
    /// `topic` on websocket frames.
    pub topic: Option<String>,
    /// Field id → value, as sent.
    pub fields: BTreeMap<u16, String>,
    /// Non-numeric keys other than the pseudo-fields, kept rather than dropped.
    pub other: BTreeMap<String, String>,
}

/// Field ids that are bookkeeping, not market data (used by the pre-flight rule).
const BOOKKEEPING: [u16; 3] = [6119, 6508, 6509];

impl Snapshot {
    /// True when no market field is present: the first request for a conid only opens the
    /// stream (pre-flight), or the stream lapsed.
    pub fn is_preflight(&self) -> bool {
        self.fields.keys().all(|k| BOOKKEEPING.contains(k))
    }

    /// True when every field in `fields` has a value.
    pub fn has_all(&self, fields: &[Field]) -> bool {
        fields
            .iter()
            .filter(|f| !BOOKKEEPING.contains(&f.id()))
            .all(|f| self.fields.contains_key(&f.id()))
    }

    /// Raw value of a field.
    pub fn raw(&self, field: Field) -> Option<&str> {
        self.fields.get(&field.id()).map(String::as_str)
    }

    /// A field as an exact price.
    pub fn price(&self, field: Field) -> Option<Decimal> {
        self.raw(field).and_then(parse_display_price)
    }

    /// A field as a number (sizes, volumes, percentages, K/M suffixes).
    pub fn number(&self, field: Field) -> Option<f64> {
        self.raw(field).and_then(parse_display_number)
    }

    /// Last price with its kind (`C` prior close, `H` halted).
    pub fn last(&self) -> Option<LastPrice> {
        let raw = self.raw(Field::Last)?.trim();
        let kind = if raw.starts_with('C') {
            LastKind::PriorClose
        } else if raw.starts_with('H') {
            LastKind::Halted
        } else {
            LastKind::Trade
        };
        parse_display_price(raw).map(|price| LastPrice { price, kind })
    }

    /// Bid.
    pub fn bid(&self) -> Option<Decimal> {
        self.price(Field::Bid)
    }

    /// Ask.
    pub fn ask(&self) -> Option<Decimal> {
        self.price(Field::Ask)
    }

    /// Bid size (round lots of 100 for US stocks, as displayed).
    pub fn bid_size(&self) -> Option<f64> {
        self.number(Field::BidSize)
    }

    /// Ask size (round lots for US stocks).
    pub fn ask_size(&self) -> Option<f64> {
        self.number(Field::AskSize)
    }

    /// Last size.
    pub fn last_size(&self) -> Option<f64> {
        self.number(Field::LastSize)
    }

    /// Day volume: the exact `7762` when present, else the formatted `87`.
    pub fn volume(&self) -> Option<f64> {
        self.number(Field::VolumeLong)
            .or_else(|| self.number(Field::Volume))
    }

    /// Decoded `6509`.
    pub fn availability(&self) -> Option<Availability> {
        self.raw(Field::Availability).and_then(Availability::parse)
    }

    /// Merge a later delta frame into this one (missing fields keep their values).
    pub fn merge(&mut self, delta: &Snapshot) {
        for (k, v) in &delta.fields {
            match self.fields.get_mut(k) {
                Some(existing) => {
                    existing.clear();
                    existing.push_str(v);
                }
                None => {
                    self.fields.insert(*k, v.clone());
                }
            }
        }
        for (k, v) in &delta.other {
            self.other.insert(k.clone(), v.clone());
        }
        if delta.updated_ms.is_some() {
            self.updated_ms = delta.updated_ms;
        }
        if delta.conid_ex.is_some() {
            self.conid_ex.clone_from(&delta.conid_ex);
        }
        if delta.server_id.is_some() {
            self.server_id.clone_from(&delta.server_id);
        }
    }

    /// The engine's tick (`ts` = `_updated` in ns, or `fallback_ts` when absent). Prior-close
    /// and halted last prices are not reported as trades.
    pub fn to_tick(&self, instrument: InstrumentId, fallback_ts: Ts) -> Tick {
        let to_f = |d: Option<Decimal>| d.and_then(|d| f64::try_from(d).ok());
        let last = self
            .last()
            .filter(|l| l.kind == LastKind::Trade)
            .and_then(|l| f64::try_from(l.price).ok());
        Tick {
            instrument,
            ts: self
                .updated_ms
                .and_then(|ms| ms.checked_mul(1_000_000))
                .unwrap_or(fallback_ts),
            bid: to_f(self.bid()),
            ask: to_f(self.ask()),
            last,
            bid_size: self.bid_size(),
            ask_size: self.ask_size(),
            last_size: self.last_size(),
        }
    }
}

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SnapshotVisitor)
    }
}

struct SnapshotVisitor;

/// A field value: string, number, bool or null.
struct AnyScalar(Option<String>);

impl<'de> Deserialize<'de> for AnyScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::models::lenient::opt_string(d).map(AnyScalar)
    }
}

impl<'de> Visitor<'de> for SnapshotVisitor {
    type Value = Snapshot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a market data object with a conid")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
        let mut snap = Snapshot::default();
        let mut conid = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "conid" => {
                    let v: AnyScalar = map.next_value()?;
                    conid = v.0.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
                    if conid.is_none() {
                        return Err(de::Error::custom("conid is not an integer"));
                    }
                }
                "conidEx" => snap.conid_ex = map.next_value::<AnyScalar>()?.0,
                "_updated" => {
                    let v: AnyScalar = map.next_value()?;
                    snap.updated_ms = v.0.as_deref().and_then(|s| s.parse().ok());
                }
                "server_id" => snap.server_id = map.next_value::<AnyScalar>()?.0,
                "topic" => snap.topic = map.next_value::<AnyScalar>()?.0,
                k => {
                    if let Ok(id) = k.parse::<u16>() {
                        if let Some(v) = map.next_value::<AnyScalar>()?.0 {
                            snap.fields.insert(id, v);
                        }
                    } else {
                        let v: serde_json::Value = map.next_value()?;
                        let text = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        snap.other.insert(k.to_string(), text);
                    }
                }
            }
        }
        // Websocket frames carry the conid in the topic too.
        if conid.is_none() {
            conid = snap
                .topic
                .as_deref()
                .and_then(|t| t.strip_prefix("smd+"))
                .and_then(|c| c.split('@').next())
                .and_then(|c| c.parse().ok());
        }
        snap.conid = conid.ok_or_else(|| de::Error::missing_field("conid"))?;
        Ok(snap)
    }
}

/// Parse the body of `GET /iserver/marketdata/snapshot`.
pub fn parse_snapshots(body: &[u8]) -> Result<Vec<Snapshot>, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Bar sizes of the history endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarSize {
    Min1,
    Min2,
    Min3,
    Min5,
    Min10,
    Min15,
    Min30,
    Hour1,
    Hour2,
    Hour3,
    Hour4,
    Hour8,
    Day1,
    Week1,
    Month1,
}

impl BarSize {
    /// Every size.
    pub const ALL: [BarSize; 15] = [
        BarSize::Min1,
        BarSize::Min2,
        BarSize::Min3,
        BarSize::Min5,
        BarSize::Min10,
        BarSize::Min15,
        BarSize::Min30,
        BarSize::Hour1,
        BarSize::Hour2,
        BarSize::Hour3,
        BarSize::Hour4,
        BarSize::Hour8,
        BarSize::Day1,
        BarSize::Week1,
        BarSize::Month1,
    ];

    /// Wire name (`1min`, `1h`, `1d`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BarSize::Min1 => "1min",
            BarSize::Min2 => "2min",
            BarSize::Min3 => "3min",
            BarSize::Min5 => "5min",
            BarSize::Min10 => "10min",
            BarSize::Min15 => "15min",
            BarSize::Min30 => "30min",
            BarSize::Hour1 => "1h",
            BarSize::Hour2 => "2h",
            BarSize::Hour3 => "3h",
            BarSize::Hour4 => "4h",
            BarSize::Hour8 => "8h",
            BarSize::Day1 => "1d",
            BarSize::Week1 => "1w",
            BarSize::Month1 => "1m",
        }
    }

    /// Nominal length in seconds (a month counts 30 days).
    pub fn seconds(self) -> i64 {
        match self {
            BarSize::Min1 => 60,
            BarSize::Min2 => 120,
            BarSize::Min3 => 180,
            BarSize::Min5 => 300,
            BarSize::Min10 => 600,
            BarSize::Min15 => 900,
            BarSize::Min30 => 1800,
            BarSize::Hour1 => 3600,
            BarSize::Hour2 => 7200,
            BarSize::Hour3 => 10800,
            BarSize::Hour4 => 14400,
            BarSize::Hour8 => 28800,
            BarSize::Day1 => 86400,
            BarSize::Week1 => 7 * 86400,
            BarSize::Month1 => 30 * 86400,
        }
    }
}

impl std::str::FromStr for BarSize {
    type Err = MarketDataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let t = match t.as_str() {
            "1hour" | "1hr" => "1h",
            "1day" => "1d",
            "1week" => "1w",
            "1month" => "1m",
            other => other,
        };
        BarSize::ALL
            .into_iter()
            .find(|b| b.as_str() == t)
            .ok_or_else(|| MarketDataError::BadBarSize(s.to_string()))
    }
}

/// A history period `{n}{min|h|d|w|m|y}` within IBKR's documented ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    pub count: u32,
    pub unit: PeriodUnit,
}

/// Units of a [`Period`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

impl PeriodUnit {
    fn suffix(self) -> &'static str {
        match self {
            PeriodUnit::Minutes => "min",
            PeriodUnit::Hours => "h",
            PeriodUnit::Days => "d",
            PeriodUnit::Weeks => "w",
            PeriodUnit::Months => "m",
            PeriodUnit::Years => "y",
        }
    }

    fn max(self) -> u32 {
        match self {
            PeriodUnit::Minutes => 30,
            PeriodUnit::Hours => 8,
            PeriodUnit::Days => 1000,
            PeriodUnit::Weeks => 792,
            PeriodUnit::Months => 182,
            PeriodUnit::Years => 15,
        }
    }
}

impl Period {
    /// When a period that ends at `end` begins (calendar days, weeks, months and years).
    pub fn start_before(&self, end: DateTime<Utc>) -> DateTime<Utc> {
        let n = i64::from(self.count);
        let start = match self.unit {
            PeriodUnit::Minutes => end.checked_sub_signed(TimeDelta::minutes(n)),
            PeriodUnit::Hours => end.checked_sub_signed(TimeDelta::hours(n)),
            PeriodUnit::Days => end.checked_sub_signed(TimeDelta::days(n)),
            PeriodUnit::Weeks => end.checked_sub_signed(TimeDelta::weeks(n)),
            PeriodUnit::Months => end.checked_sub_months(Months::new(self.count)),
            PeriodUnit::Years => end.checked_sub_months(Months::new(self.count * 12)),
        };
        start.unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit.suffix())
    }
}

impl std::str::FromStr for Period {
    type Err = MarketDataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let bad = || MarketDataError::BadPeriod(s.to_string());
        let count: u32 = num.parse().map_err(|_| bad())?;
        let unit = match unit {
            "min" => PeriodUnit::Minutes,
            "h" => PeriodUnit::Hours,
            "d" => PeriodUnit::Days,
            "w" => PeriodUnit::Weeks,
            "m" => PeriodUnit::Months,
            "y" => PeriodUnit::Years,
            _ => return Err(bad()),
        };
        if count == 0 || count > unit.max() {
            return Err(bad());
        }
        Ok(Period { count, unit })
    }
}

/// Market-data conversion errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketDataError {
    #[error(
        "bar size {0:?} is not one of 1min 2min 3min 5min 10min 15min 30min 1h 2h 3h 4h 8h 1d 1w 1m"
    )]
    BadBarSize(String),
    #[error(
        "period {0:?} must be {{n}}{{min|h|d|w|m|y}} within 1-30min, 1-8h, 1-1000d, 1-792w, 1-182m, 1-15y"
    )]
    BadPeriod(String),
    #[error("history bar {index} (t={t}): {reason}")]
    BadBar {
        index: usize,
        t: i64,
        reason: String,
    },
    #[error("history bars {index} and {next} share the timestamp {t}")]
    DuplicateTimestamp { index: usize, next: usize, t: i64 },
}

/// Convert history bars into a [`BarSeries`] (open times in UTC ns, ascending). The interval
/// is `barLength` when present, else inferred from the timestamps. Bars out of order are
/// sorted; duplicate timestamps and non-finite or inconsistent values are errors.
pub fn history_to_series(
    history: &HistoryResponse,
    symbol: &str,
) -> Result<BarSeries, MarketDataError> {
    let mut order: Vec<usize> = (0..history.data.len()).collect();
    order.sort_by_key(|&i| history.data[i].t);
    for w in order.windows(2) {
        if history.data[w[0]].t == history.data[w[1]].t {
            return Err(MarketDataError::DuplicateTimestamp {
                index: w[0],
                next: w[1],
                t: history.data[w[0]].t,
            });
        }
    }
    let ts: Vec<Ts> = order
        .iter()
        .map(|&i| ms_to_ns(history.data[i].t, i))
        .collect::<Result<_, _>>()?;
    let interval = history
        .bar_length
        .filter(|s| *s > 0)
        .map(|s| s * 1_000_000_000)
        .or_else(|| BarSeries::infer_interval(&ts))
        .unwrap_or(0);
    let mut series = BarSeries::with_capacity(symbol, interval, order.len());
    for (&i, &t) in order.iter().zip(&ts) {
        let b = &history.data[i];
        validate_bar(i, b.t, b.o, b.h, b.l, b.c, b.v)?;
        series.push(t, b.o, b.h, b.l, b.c, b.v);
    }
    Ok(series)
}

/// Convert history bars into engine bars for `instrument`.
pub fn history_to_bars(
    history: &HistoryResponse,
    instrument: InstrumentId,
) -> Result<Vec<Bar>, MarketDataError> {
    let series = history_to_series(history, history.symbol.as_deref().unwrap_or(""))?;
    Ok((0..series.len())
        .map(|i| series.bar(instrument, i))
        .collect())
}

fn ms_to_ns(ms: i64, index: usize) -> Result<Ts, MarketDataError> {
    ms.checked_mul(1_000_000)
        .ok_or_else(|| MarketDataError::BadBar {
            index,
            t: ms,
            reason: "timestamp out of range".into(),
        })
}

fn validate_bar(
    index: usize,
    t: i64,
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: f64,
) -> Result<(), MarketDataError> {
    let bad = |reason: &str| MarketDataError::BadBar {
        index,
        t,
        reason: reason.to_string(),
    };
    if ![o, h, l, c, v].iter().all(|x| x.is_finite()) {
        return Err(bad("non-finite value"));
    }
    if h < l {
        return Err(bad("high below low"));
    }
    if v < 0.0 {
        return Err(bad("negative volume"));
    }
    Ok(())
}

/// Write a bar series as CSV: `ts,open,high,low,close,volume` with `ts` in ISO-8601 UTC.
pub fn write_bars_csv(series: &BarSeries, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "ts,open,high,low,close,volume")?;
    for i in 0..series.len() {
        let ts = chrono::DateTime::from_timestamp_nanos(series.ts[i]);
        writeln!(
            out,
            "{},{},{},{},{},{}",
            ts.format("%Y-%m-%dT%H:%M:%SZ"),
            series.open[i],
            series.high[i],
            series.low[i],
            series.close[i],
            series.volume[i]
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;
    use rust_decimal::dec;

    #[test]
    fn field_ids_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_id(f.id()), Some(*f));
        }
        assert_eq!(Field::ALL.len(), 118);
        assert_eq!(Field::Last.id(), 31);
        assert_eq!(
            field_list(&[Field::Last, Field::Bid, Field::Ask]),
            "31,84,86"
        );
    }

    #[test]
    fn display_numbers() {
        assert_eq!(parse_display_number("1,300"), Some(1300.0));
        assert_eq!(parse_display_number("21.4M"), Some(21_400_000.0));
        assert_eq!(parse_display_number("1.2K"), Some(1200.0));
        assert_eq!(parse_display_number("+0.52"), Some(0.52));
        assert_eq!(parse_display_number("-1.5%"), Some(-1.5));
        assert_eq!(parse_display_number("C189.60"), Some(189.6));
        assert_eq!(parse_display_number(""), None);
        assert_eq!(parse_display_number("n/a"), None);
        assert_eq!(parse_display_price("C189.60"), Some(dec!(189.60)));
    }

    #[test]
    fn snapshot_sample() {
        let s = parse_snapshots(sample("marketdata_snapshot.json").as_bytes()).expect("parse");
        assert_eq!(s.len(), 2);
        let aapl = &s[0];
        assert_eq!(aapl.conid, 265598);
        assert_eq!(
            aapl.last(),
            Some(LastPrice {
                price: dec!(168.42),
                kind: LastKind::Trade
            })
        );
        assert_eq!(aapl.bid(), Some(dec!(168.41)));
        assert_eq!(aapl.ask(), Some(dec!(168.42)));
        assert_eq!(aapl.bid_size(), Some(1300.0));
        assert_eq!(aapl.volume(), Some(21_412_987.0));
        assert_eq!(aapl.price(Field::Open), Some(dec!(167.90)));
        assert_eq!(
            aapl.availability().map(|a| a.kind),
            Some(DataKind::RealTime)
        );
        assert!(!aapl.is_preflight());
        let ibm = &s[1];
        assert_eq!(ibm.last().map(|l| l.kind), Some(LastKind::PriorClose));
        assert_eq!(ibm.availability().map(|a| a.kind), Some(DataKind::Delayed));
        let tick = ibm.to_tick(InstrumentId(1), 0);
        assert_eq!(tick.last, None);
        assert_eq!(tick.bid, Some(189.56));
        assert_eq!(tick.ts, 1712596911593 * 1_000_000);
    }

    #[test]
    fn preflight_sample() {
        let s = parse_snapshots(sample("marketdata_snapshot_preflight.json").as_bytes())
            .expect("parse");
        assert!(s.iter().all(Snapshot::is_preflight));
    }

    #[test]
    fn websocket_deltas_merge() {
        let v: serde_json::Value = serde_json::from_str(&sample("ws_smd.json")).expect("ws sample");
        let frames: Vec<Snapshot> = serde_json::from_value(v["receive"].clone()).expect("frames");
        let mut cache = frames[0].clone();
        cache.merge(&frames[1]);
        assert_eq!(cache.last().map(|l| l.price), Some(dec!(168.43)));
        assert_eq!(cache.bid(), Some(dec!(168.41)));
        assert_eq!(cache.last_size(), Some(200.0));
        assert_eq!(cache.updated_ms, Some(1712596912103));
    }

    #[test]
    fn malformed_snapshots() {
        assert!(parse_snapshots(br#"[{"31":"1"}]"#).is_err());
        assert!(parse_snapshots(br#"[{"conid":"abc"}]"#).is_err());
        assert!(parse_snapshots(br#"{"conid":1}"#).is_err());
        let ok = parse_snapshots(br#"[{"conid":"8314","84":189.5,"x":[1]}]"#).expect("lenient");
        assert_eq!(ok[0].bid(), Some(dec!(189.5)));
        assert_eq!(ok[0].other.get("x").map(String::as_str), Some("[1]"));
    }

    #[test]
    fn history_to_engine_bars() {
        let h: HistoryResponse =
            serde_json::from_str(&sample("marketdata_history.json")).expect("history");
        let series = history_to_series(&h, "AAPL").expect("series");
        assert_eq!(series.len(), 4);
        assert_eq!(series.interval, 86_400_000_000_000);
        assert_eq!(series.ts[0], 1747229400000 * 1_000_000);
        assert_eq!(series.close[3], 208.78);
        let bars = history_to_bars(&h, InstrumentId(3)).expect("bars");
        assert_eq!(bars[0].ts_end - bars[0].ts, 86_400_000_000_000);
        assert_eq!(bars[0].instrument, InstrumentId(3));
        let mut csv = Vec::new();
        write_bars_csv(&series, &mut csv).expect("csv");
        let text = String::from_utf8(csv).expect("utf8");
        assert!(text.starts_with("ts,open,high,low,close,volume\n2025-05-14T13:30:00Z,212.43,"));
    }

    #[test]
    fn history_errors() {
        let mut h: HistoryResponse =
            serde_json::from_str(&sample("marketdata_history.json")).expect("history");
        h.data[2].t = h.data[1].t;
        assert!(matches!(
            history_to_series(&h, "X"),
            Err(MarketDataError::DuplicateTimestamp { .. })
        ));
        let mut h2: HistoryResponse =
            serde_json::from_str(&sample("marketdata_history.json")).expect("history");
        h2.data[0].h = f64::NAN;
        assert!(matches!(
            history_to_series(&h2, "X"),
            Err(MarketDataError::BadBar { index: 0, .. })
        ));
    }

    #[test]
    fn bar_sizes_and_periods() {
        assert_eq!("1min".parse::<BarSize>().ok(), Some(BarSize::Min1));
        assert_eq!("1H".parse::<BarSize>().ok(), Some(BarSize::Hour1));
        assert!("7min".parse::<BarSize>().is_err());
        assert_eq!(
            "1d".parse::<Period>().ok().map(|p| p.to_string()),
            Some("1d".into())
        );
        assert!("31min".parse::<Period>().is_err());
        assert!("0d".parse::<Period>().is_err());
        assert!("5x".parse::<Period>().is_err());
        assert!("d".parse::<Period>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn display_number_never_panics(s in "\\PC{0,24}") {
            let _ = parse_display_number(&s);
            let _ = parse_display_price(&s);
        }

        #[test]
        fn plain_numbers_parse(v in -1.0e9f64..1.0e9) {
            let text = format!("{v:.2}");
            let parsed = parse_display_number(&text).expect("number");
            proptest::prop_assert!((parsed - text.parse::<f64>().expect("f64")).abs() < 1e-6);
        }
    }
}
