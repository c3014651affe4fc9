//! "Every n ticks" without a division on each tick.

/// Fires once every `every` calls to [`tick`](Countdown::tick).
#[derive(Debug, Clone)]
pub(crate) struct Countdown {
    every: u32,
    left: u32,
}

impl Countdown {
    /// `every` is at least 1 (the builder rejects 0).
    pub(crate) fn new(every: u32) -> Countdown {
        let every = every.max(1);
        Countdown { every, left: every }
    }

    /// Fires every `every` ticks from now on (at least 1); a countdown
    /// already under way ends no later than that.
    pub(crate) fn set_every(&mut self, every: u32) {
        self.every = every.max(1);
        self.left = self.left.min(self.every);
    }

    /// Counts one tick; true on every `every`-th.
    pub(crate) fn tick(&mut self) -> bool {
        self.left -= 1;
        if self.left == 0 {
            self.left = self.every;
            true
        } else {
            false
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Countdown;

    #[test]
    fn fires_every_nth_tick() {
        let mut c = Countdown::new(3);
        let fired: Vec<bool> = (0..7).map(|_| c.tick()).collect();
        assert_eq!(fired, [false, false, true, false, false, true, false]);
        let mut one = Countdown::new(1);
        assert!(one.tick() && one.tick());
    }

    #[test]
    fn a_new_period_applies_at_once() {
        let mut c = Countdown::new(10);
        c.tick();
        c.set_every(2);
        let fired: Vec<bool> = (0..4).map(|_| c.tick()).collect();
        assert_eq!(fired, [false, true, false, true]);
        c.set_every(0);
        assert!(c.tick(), "a period of 0 is taken as 1");
    }
}
