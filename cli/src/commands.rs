//! One module per subcommand, each with its `Args` (if it takes any) and `run`.

pub(crate) mod demo;
pub(crate) mod diagnose;
pub(crate) mod inbox;
pub(crate) mod inspect;
pub(crate) mod keygen;
pub(crate) mod listen;
pub(crate) mod send;
pub(crate) mod sign;
pub(crate) mod verify;
