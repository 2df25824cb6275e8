//! Orders: the lifecycle table ([`state`]), the prompt policy ([`prompt`]) and the order
//! manager that owns every order ([`manager`]).

pub mod manager;
pub mod prompt;
pub mod state;

pub use manager::{OmError, Order, OrderManager, OrderUpdate};
pub use prompt::{PromptDecision, PromptPolicy, PromptVerdict};
pub use state::{IllegalTransition, OrderEvent, OrderState, transition};
