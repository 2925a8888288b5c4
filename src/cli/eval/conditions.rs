//! The conditions of `hark eval`: clean, each noise at each SNR, and attacks.

use anyhow::{Context, Result, bail};
use hark::eval::attack::WaveAttackConfig;
use hark::eval::report::Condition;
use hark::model::attack::AttackConfig;

use super::EvalArgs;

fn parse_list<T: std::str::FromStr>(list: &str, what: &str) -> Result<Vec<T>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<T>()
                .ok()
                .with_context(|| format!("bad {what} '{s}'"))
        })
        .collect()
}

/// A comma-separated `--snr` list in the order given: `None` for "clean", else the SNR in dB.
pub(crate) fn snr_list(list: &str) -> Result<Vec<Option<f32>>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "clean" => Ok(None),
            v => {
                let db: f32 = v.parse().ok().with_context(|| format!("bad SNR '{v}'"))?;
                if !db.is_finite() {
                    bail!("bad SNR '{v}'");
                }
                Ok(Some(db))
            }
        })
        .collect()
}

/// A comma-separated `--noise` list in the order given: generated noises, names from `bank`, or
/// WAV files.
pub(crate) fn noise_list(
    list: &str,
    bank: Option<&hark::noise::NoiseBank>,
) -> Result<Vec<hark::noise::Noise>> {
    Ok(list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| hark::noise::resolve(n, bank))
        .collect::<hark::Result<_>>()?)
}

/// The conditions the flags ask for, in report order.
pub(super) fn conditions(args: &EvalArgs, noises: usize) -> Result<Vec<Condition>> {
    let listed = snr_list(&args.snr)?;
    let clean = listed.contains(&None);
    let snrs: Vec<f32> = listed.into_iter().flatten().collect();
    let mut out = Vec::new();
    if clean {
        out.push(Condition::Clean);
    }
    for noise in 0..noises {
        out.extend(
            snrs.iter()
                .map(|&snr_db| Condition::Noisy { noise, snr_db }),
        );
    }
    for eps in parse_list::<f32>(&args.attack_eps, "attack epsilon")? {
        if !(eps.is_finite() && eps > 0.0) {
            bail!("attack epsilon must be positive, not {eps}");
        }
        out.push(Condition::Attack(if args.attack_steps == 0 {
            AttackConfig::fgsm(eps)
        } else {
            AttackConfig::pgd(eps, args.attack_steps)
        }));
    }
    for snr_db in parse_list::<f32>(&args.attack_snr, "attack SNR")? {
        if !snr_db.is_finite() {
            bail!("attack SNR must be a number of dB, not {snr_db}");
        }
        out.push(Condition::WaveAttack(WaveAttackConfig {
            snr_db,
            steps: args.attack_steps,
        }));
    }
    if out.is_empty() {
        bail!("nothing to evaluate: give --snr, --attack-eps and/or --attack-snr");
    }
    Ok(out)
}
