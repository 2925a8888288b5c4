//! Word confidences that mean what they say: Platt scaling, fitted on dev words by `hark tune`
//! and stored in the model's `config.json`, maps the raw confidence (the mean posterior of a
//! word's letters) to the probability that the word is right.

use serde::{Deserialize, Serialize};

/// Platt scaling of a confidence: `σ(a · logit(c) + b)`, two numbers fitted on dev words so
/// that the confidence a word is given matches how often words given it are right. It keeps
/// the order of confidences (for `a > 0`) and costs nothing at run time; Monte Carlo dropout,
/// the other route to calibrated confidences, costs a model run per sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

/// Confidences are kept this far from 0 and 1 before taking their logit.
const EDGE: f64 = 1e-4;

impl Platt {
    /// The identity mapping.
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    pub fn apply(&self, confidence: f32) -> f32 {
        if !confidence.is_finite() {
            return confidence;
        }
        let c = f64::from(confidence).clamp(EDGE, 1.0 - EDGE);
        sigmoid(self.a * (c / (1.0 - c)).ln() + self.b) as f32
    }

    /// The mapping that minimises the log loss of `(confidence, correct)` pairs, by Newton's
    /// method on (a, b) with a small ridge (1e-3) towards the identity so that a one-sided
    /// or tiny set still gives a finite answer, and a backtracking line search so that every
    /// step lowers the loss (confidences saturated near 1 leave the Hessian nearly singular at
    /// the start, where a full step overshoots); `None` without any finite pair.
    pub fn fit(pairs: &[(f32, bool)]) -> Option<Platt> {
        let data: Vec<(f64, f64)> = pairs
            .iter()
            .filter(|(c, _)| c.is_finite())
            .map(|&(c, right)| {
                let c = f64::from(c).clamp(EDGE, 1.0 - EDGE);
                ((c / (1.0 - c)).ln(), if right { 1.0 } else { 0.0 })
            })
            .collect();
        if data.is_empty() {
            return None;
        }
        let (mut a, mut b) = (1.0, 0.0);
        let mut loss = objective(&data, a, b);
        for _ in 0..100 {
            let (ga, gb, haa, hab, hbb) = gradient_and_hessian(&data, a, b);
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            let mut step = 1.0;
            let mut moved = false;
            for _ in 0..40 {
                let (na, nb) = (a - step * da, b - step * db);
                let l = objective(&data, na, nb);
                if l <= loss {
                    (a, b, loss, moved) = (na, nb, l, true);
                    break;
                }
                step *= 0.5;
            }
            if !moved || (step * da).abs().max((step * db).abs()) < 1e-9 {
                break;
            }
        }
        (a.is_finite() && b.is_finite()).then_some(Platt { a, b })
    }
}

/// The ridge towards the identity in [`Platt::fit`]'s objective.
const RIDGE: f64 = 1e-3;

/// Mean log loss of `σ(a·x + b)` against `y` over `(x, y)` pairs, plus RIDGE/2 · ((a−1)² + b²).
fn objective(data: &[(f64, f64)], a: f64, b: f64) -> f64 {
    let sum: f64 = data
        .iter()
        .map(|&(x, y)| {
            // log(1 + e^z) − y·z, computed without overflow.
            let z = a * x + b;
            z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
        })
        .sum();
    sum / data.len() as f64 + 0.5 * RIDGE * ((a - 1.0).powi(2) + b * b)
}

/// Gradient (a, b) and Hessian (aa, ab, bb) of [`objective`].
fn gradient_and_hessian(data: &[(f64, f64)], a: f64, b: f64) -> (f64, f64, f64, f64, f64) {
    let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y) in data {
        let p = sigmoid(a * x + b);
        let w = p * (1.0 - p);
        ga += (p - y) * x;
        gb += p - y;
        haa += w * x * x;
        hab += w * x;
        hbb += w;
    }
    let n = data.len() as f64;
    (
        ga / n + RIDGE * (a - 1.0),
        gb / n + RIDGE * b,
        haa / n + RIDGE,
        hab / n,
        hbb / n + RIDGE,
    )
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::calibration::expected_error;

    #[test]
    fn platt_recovers_a_known_mapping() {
        // Words are right with probability σ(0.5·logit(c) − 1) exactly: for each of 9
        // confidence levels, 1000 words of which round(1000·that) are right. The fit must
        // find a ≈ 0.5, b ≈ −1 (up to the rounding and the tiny ridge).
        let truth = Platt { a: 0.5, b: -1.0 };
        let mut pairs = Vec::new();
        for k in 1..10 {
            let c = k as f32 / 10.0;
            let right = (1000.0 * truth.apply(c)).round() as usize;
            pairs.extend((0..1000).map(|i| (c, i < right)));
        }
        let fit = Platt::fit(&pairs).expect("fits");
        assert!((fit.a - 0.5).abs() < 0.02, "{fit:?}");
        assert!((fit.b + 1.0).abs() < 0.02, "{fit:?}");
        let before = expected_error(&pairs, 10, |c| c).expect("pairs");
        let after = expected_error(&pairs, 10, |c| fit.apply(c)).expect("pairs");
        assert!(before > 0.2 && after < 0.01, "ECE {before} -> {after}");
    }

    #[test]
    fn platt_converges_from_saturated_confidences() {
        // Raw confidences pile up at the clamp edge (logit ≈ 9.2) while fewer than half of
        // those words are right: at the identity start the Hessian is nearly zero there and an
        // undamped Newton step overshoots to a ≈ 500. The fit must still lower the log loss
        // and the calibration error.
        let mut pairs: Vec<(f32, bool)> = Vec::new();
        pairs.extend((0..600).map(|i| (0.99999, i % 5 < 2)));
        pairs.extend((0..300).map(|i| (0.9, i % 2 == 0)));
        pairs.extend((0..300).map(|i| (0.4, i % 5 == 0)));
        let fit = Platt::fit(&pairs).expect("fits");
        let loss = |m: &Platt| {
            pairs
                .iter()
                .map(|&(c, y)| {
                    let p = f64::from(m.apply(c)).clamp(1e-12, 1.0 - 1e-12);
                    if y { -p.ln() } else { -(1.0 - p).ln() }
                })
                .sum::<f64>()
                / pairs.len() as f64
        };
        assert!(loss(&fit) < loss(&Platt::IDENTITY), "{fit:?}");
        assert!(fit.a.abs() < 10.0, "{fit:?}");
        let before = expected_error(&pairs, 10, |c| c).expect("pairs");
        let after = expected_error(&pairs, 10, |c| fit.apply(c)).expect("pairs");
        assert!(after < 0.05 && after < before, "ECE {before} -> {after}");
    }

    #[test]
    fn platt_is_finite_on_one_sided_or_empty_data() {
        let all_wrong: Vec<(f32, bool)> = (0..50).map(|_| (0.9, false)).collect();
        let fit = Platt::fit(&all_wrong).expect("finite");
        assert!(fit.apply(0.9) < 0.2, "{fit:?}");
        assert_eq!(Platt::fit(&[]), None);
        assert_eq!(Platt::fit(&[(f32::NAN, true)]), None);
        assert!((Platt::IDENTITY.apply(0.3) - 0.3).abs() < 1e-6);
    }
}
