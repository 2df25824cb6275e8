//! Journal tests: opening (bad files), runs and identity, the recorder, restore, export,
//! control and the overview.

mod control;
mod export;
mod open;
mod recorder;
mod restore;
mod runs;
mod support;
