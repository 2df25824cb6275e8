//! Orders: the lifecycle table ([`state`]), the prompt policy ([`prompt`]), the order
//! manager that owns every order ([`manager`]) and the state of a bracket as a whole
//! ([`bracket`]).

pub mod bracket;
pub mod manager;
pub mod prompt;
pub mod state;

pub use bracket::{BracketState, bracket_state};
pub use manager::{OmError, Order, OrderManager, OrderUpdate};
pub use prompt::{PromptDecision, PromptPolicy, PromptVerdict};
pub use state::{IllegalTransition, OrderEvent, OrderState, transition};
