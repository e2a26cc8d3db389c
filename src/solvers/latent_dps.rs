//! Latent DPS: DPS on a latent problem `A(D(z))` — the name the survey gives it (Daras et al.
//! 2024, §5; Rout et al. 2023 use it as PSLD's baseline, LituRout/PSLD). The update is DPS's
//! ([`super::Dps`], with its parameters and defaults): the gradient of ‖y − A(D(ẑ0))‖ through the
//! UNet and the decoder ([`crate::operators::Decoded`]). Registered under its own name so a latent
//! prior's solvers read as the survey lists them; it refuses a pixel-space problem (plain `dps`
//! runs those).

use super::params::{Params, Setup, boxed};
use super::{Dps, Problem, Run, Solver};
use crate::error::{Error, Result};

/// DPS on latent problems, under its latent name.
pub struct LatentDps(Box<dyn Solver>);

impl LatentDps {
    /// The registry's constructor: DPS's parameters from `p`.
    pub fn create(setup: &Setup, p: Params) -> Result<Box<dyn Solver>> {
        Ok(Box::new(LatentDps(boxed::<Dps>(setup, p)?)))
    }
}

impl Solver for LatentDps {
    fn name(&self) -> &'static str {
        "latent-dps"
    }
    fn settings(&self) -> Vec<(String, String)> {
        self.0.settings()
    }
    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        if p.op.decoded().is_none() {
            return Err(Error::Input(format!(
                "latent-dps solves latent problems A(D(z)) (a latent prior with its autoencoder); {} \
                 is a pixel-space operator: use dps",
                p.op.describe()
            )));
        }
        self.0.start(p, seed)
    }
}
