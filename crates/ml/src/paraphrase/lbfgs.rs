//! L-BFGS for the scorer's logistic regression: a smooth convex objective over
//! a few hundred thousand weights, optimised full-batch to its minimum so
//! that training is deterministic and needs no learning-rate schedule.
//! Hand-written (about sixty lines): the Rust optimisation crates (argmin)
//! bring a framework of traits and dependencies for what is one loop here.

/// Minimises `f` from `x`; `f` returns the value and writes the gradient.
/// Returns the number of iterations run.
pub fn minimise(x: &mut [f64], max_iterations: usize, f: &mut dyn FnMut(&[f64], &mut [f64]) -> f64) -> usize {
    const MEMORY: usize = 10;
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut value = f(x, &mut g);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::with_capacity(MEMORY);
    let mut direction = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial_g = vec![0.0; n];
    for iteration in 0..max_iterations {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < 1e-5 {
            return iteration;
        }
        // Two-loop recursion: direction = -H·g.
        direction.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &direction);
            axpy(-a, y, &mut direction);
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.last() {
            let scale = dot(s, y) / dot(y, y);
            direction.iter_mut().for_each(|d| *d *= scale);
        } else {
            let norm = dot(&g, &g).sqrt().max(1e-12);
            direction.iter_mut().for_each(|d| *d /= norm);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &direction);
            axpy(a - b, s, &mut direction);
        }
        let slope = dot(&g, &direction);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from the gradient.
            history.clear();
            continue;
        }
        // Backtracking until the Armijo condition holds.
        let mut step = 1.0;
        let new_value = loop {
            trial.iter_mut().zip(x.iter().zip(&direction)).for_each(|(t, (xi, d))| *t = xi + step * d);
            let v = f(&trial, &mut trial_g);
            if v <= value + 1e-4 * step * slope || step < 1e-10 {
                break v;
            }
            step *= 0.5;
        };
        let s: Vec<f64> = trial.iter().zip(x.iter()).map(|(t, xi)| t - xi).collect();
        let y: Vec<f64> = trial_g.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        x.copy_from_slice(&trial);
        g.copy_from_slice(&trial_g);
        let improvement = value - new_value;
        value = new_value;
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        if improvement.abs() <= 1e-9 * value.abs().max(1.0) {
            return iteration + 1;
        }
    }
    max_iterations
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_minimum_of_a_badly_scaled_quadratic() {
        let mut x = vec![3.0, -2.0, 1.0];
        let scales = [1.0, 100.0, 0.01];
        let iterations = super::minimise(&mut x, 500, &mut |x, g| {
            let mut v = 0.0;
            for i in 0..3 {
                let d = x[i] - i as f64;
                v += scales[i] * d * d;
                g[i] = 2.0 * scales[i] * d;
            }
            v
        });
        assert!(iterations < 500);
        for (i, xi) in x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-2, "{x:?}");
        }
    }
}
