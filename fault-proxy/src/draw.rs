//! Seeded randomness: every random choice of the proxy is a draw from the
//! proxy's seed, the connection id and the toxic's name and version, so the
//! same seed gives the same choices whatever the order connections arrive in,
//! and different connections get independent draws.

use crate::toxic::Direction;

/// splitmix64: a fast, well-mixed step for seeded draws.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A uniform draw in [0, 1) for (seed, connection, toxic, version).
pub fn draw(seed: u64, id: u64, name: &str, version: u64) -> f64 {
    let x = splitmix(seed ^ splitmix(id) ^ fnv(name) ^ version.rotate_left(17));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A small seeded generator for per-chunk choices (jitter, slice sizes).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, id: u64, dir: Direction) -> Self {
        Rng(splitmix(seed ^ splitmix(id.wrapping_mul(2).wrapping_add(dir as u64))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix(self.0)
    }

    /// Uniform in [-spread, +spread] (`spread` capped at `i64::MAX / 2`,
    /// far past any bound a toxic may have).
    pub fn spread(&mut self, spread: u64) -> i64 {
        let spread = spread.min(u64::MAX / 4);
        if spread == 0 {
            return 0;
        }
        let span = spread * 2 + 1;
        let x = i128::from(self.next_u64() % span) - i128::from(spread);
        i64::try_from(x).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough_and_seeded() {
        let hits = (0..10_000).filter(|&id| draw(42, id, "t", 1) < 0.3).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        assert_eq!(draw(1, 5, "a", 1), draw(1, 5, "a", 1));
        assert_ne!(draw(1, 5, "a", 1), draw(2, 5, "a", 1));
        assert_ne!(draw(1, 5, "a", 1), draw(1, 5, "a", 2), "an update draws again");
    }

    #[test]
    fn regression_spread_of_u64_max_neither_panics_nor_wraps() {
        let mut rng = Rng::new(1, 1, Direction::Downstream);
        for _ in 0..100 {
            let d = rng.spread(u64::MAX);
            assert!(d.unsigned_abs() <= u64::MAX / 4, "{d}");
        }
    }
}
