//! Where the space-time diagram writes a label so that it does not print over another one.
//!
//! A long run (an explored counterexample has dozens of messages, several sent at one
//! instant) puts many arrows through the same few pixels: with every label at its arrow's
//! midpoint, a broadcast's labels land on one another. So a message's label slides along
//! its own arrow to the first place whose box overlaps no label placed before it (and, if
//! every place is taken, to the one that overlaps least). Placement is greedy in event order
//! and uses no randomness, so one trace always gives one picture.

/// A label's box on the page, in pixels (`y` downwards; `top` < `bottom`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn overlap_area(&self, other: &Rect) -> f64 {
        let w = self.right.min(other.right) - self.left.max(other.left);
        let h = self.bottom.min(other.bottom) - self.top.max(other.top);
        if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
    }
}

/// Width of a character at the labels' 9 px font (an average over capitals, digits and
/// lower case: the labels are mostly capitals).
const CHAR_W_PX: f64 = 5.6;
/// A label's box above and below its baseline.
const ASCENT_PX: f64 = 8.0;
const DESCENT_PX: f64 = 2.0;
/// Where along its arrow a message label may stand (from the sender, 0, to the receiver,
/// 1): the middle first, then outwards, never on either lane (the ends are taken by dots,
/// arrowheads and other labels).
const ALONG: [f64; 7] = [0.5, 0.35, 0.65, 0.2, 0.8, 0.42, 0.58];

/// Placed labels are filed by the band of this height their top falls in, so a candidate
/// is compared with the labels of its own few bands, not with every label of the diagram
/// (thousands in a long run). A band is taller than a label, so a label that overlaps a
/// candidate has its top in the candidate's bands or the one above.
const BAND_PX: f64 = 16.0;
const _: () = assert!(ASCENT_PX + DESCENT_PX < BAND_PX);

/// The labels placed so far, by band.
#[derive(Default)]
pub(super) struct Labels {
    placed: std::collections::BTreeMap<i64, Vec<Rect>>,
}

fn band(y: f64) -> i64 {
    (y / BAND_PX).floor() as i64
}

impl Labels {
    /// Records a label written at a fixed place (baseline at `y`, starting at `x`).
    pub(super) fn fixed(&mut self, x: f64, y: f64, text: &str) {
        self.place(rect(x, y, text));
    }

    fn place(&mut self, r: Rect) {
        self.placed.entry(band(r.top)).or_default().push(r);
    }

    /// The area of `r` that labels placed so far cover (overlaps counted once a label).
    fn covered(&self, r: &Rect) -> f64 {
        let bands = band(r.top - ASCENT_PX - DESCENT_PX)..=band(r.bottom);
        self.placed.range(bands).flat_map(|(_, rs)| rs).map(|p| p.overlap_area(r)).sum()
    }

    /// Where to write the label of the arrow from `(x1, y1)` to `(x2, y2)`: the baseline's
    /// start. The label is recorded as placed.
    pub(super) fn along(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        text: &str,
    ) -> (f64, f64) {
        let at = |k: f64| (x1 + (x2 - x1) * k + 3.0, y1 + (y2 - y1) * k - 2.0);
        let overlap = |(x, y): (f64, f64)| self.covered(&rect(x, y, text));
        let mut best = at(ALONG[0]);
        let mut best_overlap = overlap(best);
        for k in &ALONG[1..] {
            if best_overlap == 0.0 {
                break;
            }
            let candidate = at(*k);
            let o = overlap(candidate);
            if o < best_overlap {
                (best, best_overlap) = (candidate, o);
            }
        }
        self.place(rect(best.0, best.1, text));
        best
    }
}

fn rect(x: f64, y: f64, text: &str) -> Rect {
    let w = text.chars().count() as f64 * CHAR_W_PX;
    Rect { left: x, top: y - ASCENT_PX, right: x + w, bottom: y + DESCENT_PX }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broadcast: three arrows from one point, their labels would share the midpoint band.
    /// Each label gets a box of its own.
    #[test]
    fn labels_of_arrows_from_one_point_do_not_overlap() {
        let mut labels = Labels::default();
        let text = "REQUEST-VOTE t1";
        let spots: Vec<(f64, f64)> = (0..3)
            .map(|i| labels.along((100.0, 100.0), (270.0 + 170.0 * i as f64, 130.0), text))
            .collect();
        let boxes: Vec<Rect> = spots.iter().map(|&(x, y)| rect(x, y, text)).collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert_eq!(a.overlap_area(b), 0.0, "{a:?} and {b:?} overlap");
            }
        }
        // The first label keeps the midpoint.
        assert_eq!(spots[0], (188.0, 113.0));
    }

    /// A label over the middle of the arrow pushes the message's label to the first place
    /// along it that is clear: here 0.8 of the way (0.5, 0.35, 0.65 and 0.2 all touch it).
    #[test]
    fn a_label_in_the_way_moves_the_next_one_along_its_arrow() {
        let mut labels = Labels::default();
        labels.fixed(200.0, 113.0, "XXXXXXXXXXXXXXXXXXXX"); // x 200..312, y 105..115
        let (x, y) = labels.along((100.0, 100.0), (400.0, 130.0), "APPEND t1 x1");
        assert!((x - 343.0).abs() < 1e-9 && (y - 122.0).abs() < 1e-9, "({x}, {y})");
    }

    /// When every place along the arrow is covered, the least-covered one is taken.
    #[test]
    fn a_crowded_arrow_takes_the_least_covered_place() {
        let mut labels = Labels::default();
        let arrow = ((100.0, 100.0), (400.0, 130.0));
        for k in ALONG {
            // A one-character label at each candidate's start, plus a long one on the middle.
            let (x, y) = (100.0 + 300.0 * k + 3.0, 100.0 + 30.0 * k - 2.0);
            labels.fixed(x, y, "X");
        }
        labels.fixed(253.0, 113.0, "XXXXXXXX");
        let (x, _) = labels.along(arrow.0, arrow.1, "APPEND t1 x1");
        // Every candidate overlaps its one-character label; the middle also the long one.
        assert!((x - 253.0).abs() > 1.0, "the middle is the most covered: {x}");
    }
}
