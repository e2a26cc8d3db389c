//! Line plots as PNG with the `image` crate and a built-in 5×7 pixel font: enough for `tweedie eval`'s
//! PSNR-against-steps charts without a font file or a plotting dependency.

use crate::error::{Error, Result};
use image::{Rgb, RgbImage};
use std::path::Path;

/// One line of a chart.
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x index, y)` points; x indexes the chart's `x_labels`.
    pub points: Vec<(usize, f64)>,
    /// Drawn dashed (a reference line).
    pub dashed: bool,
}

/// Colours of the series, in order (a colour-blind-safe palette), then grey for the rest.
const PALETTE: [[u8; 3]; 8] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [204, 121, 167],
    [213, 94, 0],
    [86, 180, 233],
    [120, 120, 120],
    [240, 228, 66],
];

/// 5×7 glyphs, one byte per row (low 5 bits, bit 4 leftmost).
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_lowercase() {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [30, 1, 1, 14, 1, 1, 30],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        'a' => [14, 17, 17, 31, 17, 17, 17],
        'b' => [30, 17, 17, 30, 17, 17, 30],
        'c' => [14, 17, 16, 16, 16, 17, 14],
        'd' => [30, 17, 17, 17, 17, 17, 30],
        'e' => [31, 16, 16, 30, 16, 16, 31],
        'f' => [31, 16, 16, 30, 16, 16, 16],
        'g' => [14, 17, 16, 23, 17, 17, 15],
        'h' => [17, 17, 17, 31, 17, 17, 17],
        'i' => [14, 4, 4, 4, 4, 4, 14],
        'j' => [7, 2, 2, 2, 2, 18, 12],
        'k' => [17, 18, 20, 24, 20, 18, 17],
        'l' => [16, 16, 16, 16, 16, 16, 31],
        'm' => [17, 27, 21, 21, 17, 17, 17],
        'n' => [17, 17, 25, 21, 19, 17, 17],
        'o' => [14, 17, 17, 17, 17, 17, 14],
        'p' => [30, 17, 17, 30, 16, 16, 16],
        'q' => [14, 17, 17, 17, 21, 18, 13],
        'r' => [30, 17, 17, 30, 20, 18, 17],
        's' => [15, 16, 16, 14, 1, 1, 30],
        't' => [31, 4, 4, 4, 4, 4, 4],
        'u' => [17, 17, 17, 17, 17, 17, 14],
        'v' => [17, 17, 17, 17, 17, 10, 4],
        'w' => [17, 17, 17, 21, 21, 21, 10],
        'x' => [17, 17, 10, 4, 10, 17, 17],
        'y' => [17, 17, 10, 4, 4, 4, 4],
        'z' => [31, 1, 2, 4, 8, 16, 31],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '=' => [0, 0, 31, 0, 31, 0, 0],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        '/' => [1, 1, 2, 4, 8, 16, 16],
        '%' => [24, 25, 2, 4, 8, 19, 3],
        '+' => [0, 4, 4, 31, 4, 4, 0],
        ',' => [0, 0, 0, 0, 12, 4, 8],
        '_' => [0, 0, 0, 0, 0, 0, 31],
        ' ' => [0; 7],
        _ => [31, 17, 17, 17, 17, 17, 31],
    }
}

/// Draws `text` with its top-left corner at (x, y), `scale` pixels per font pixel.
pub fn draw_text(img: &mut RgbImage, x: i64, y: i64, text: &str, color: [u8; 3], scale: i64) {
    for (k, ch) in text.chars().enumerate() {
        let g = glyph(ch);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (16 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(
                                img,
                                x + (k as i64 * 6 + col) * scale + dx,
                                y + row as i64 * scale + dy,
                                color,
                            );
                        }
                    }
                }
            }
        }
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgb(c));
    }
}

/// A line from (x0, y0) to (x1, y1), `w` pixels thick, every other 6 pixels skipped when dashed.
fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3], w: i64, dashed: bool) {
    let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as i64).max(1);
    for i in 0..=n {
        if dashed && (i / 6) % 2 == 1 {
            continue;
        }
        let t = i as f64 / n as f64;
        let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        for dy in 0..w {
            for dx in 0..w {
                put(
                    img,
                    x.round() as i64 + dx - w / 2,
                    y.round() as i64 + dy - w / 2,
                    c,
                );
            }
        }
    }
}

/// Writes a line chart: `x_labels` evenly spaced along x, y from the data's range with a margin,
/// one coloured line and legend entry per series.
pub fn line_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    x_labels: &[String],
    series: &[Series],
) -> Result<()> {
    let (w, h) = (720i64, 440i64);
    let (left, right, top, bottom) = (70i64, 190i64, 40i64, 50i64);
    let mut img = RgbImage::from_pixel(w as u32, h as u32, Rgb([255, 255, 255]));
    let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
    if ys.is_empty() || x_labels.is_empty() || ys.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input(format!("chart {title}: no finite data to plot")));
    }
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.08).max(0.25);
    lo = (lo - pad).floor();
    hi = (hi + pad).ceil();
    let (pw, ph) = ((w - left - right) as f64, (h - top - bottom) as f64);
    let px = |i: usize| {
        left as f64
            + if x_labels.len() == 1 {
                pw / 2.0
            } else {
                pw * i as f64 / (x_labels.len() - 1) as f64
            }
    };
    let py = |v: f64| top as f64 + ph * (hi - v) / (hi - lo);
    let grey = [200, 200, 200];
    let dark = [40, 40, 40];
    // grid and y ticks (whole dB, at most ~8 of them)
    let step = ((hi - lo) / 8.0).ceil().max(1.0);
    let mut v = lo;
    while v <= hi + 1e-9 {
        line(
            &mut img,
            (left as f64, py(v)),
            ((w - right) as f64, py(v)),
            grey,
            1,
            false,
        );
        draw_text(
            &mut img,
            left - 40,
            py(v).round() as i64 - 3,
            &format!("{v:.0}"),
            dark,
            1,
        );
        v += step;
    }
    for (i, l) in x_labels.iter().enumerate() {
        line(
            &mut img,
            (px(i), top as f64),
            (px(i), (h - bottom) as f64),
            grey,
            1,
            false,
        );
        draw_text(
            &mut img,
            px(i).round() as i64 - 3 * l.len() as i64,
            h - bottom + 8,
            l,
            dark,
            1,
        );
    }
    line(
        &mut img,
        (left as f64, top as f64),
        (left as f64, (h - bottom) as f64),
        dark,
        1,
        false,
    );
    line(
        &mut img,
        (left as f64, (h - bottom) as f64),
        ((w - right) as f64, (h - bottom) as f64),
        dark,
        1,
        false,
    );
    draw_text(&mut img, left, 12, title, dark, 2);
    draw_text(&mut img, 8, top - 16, y_label, dark, 1);
    draw_text(&mut img, w - right - 30, h - 18, "steps", dark, 1);
    for (k, s) in series.iter().enumerate() {
        let c = PALETTE[k.min(PALETTE.len() - 1)];
        let c = if s.dashed { [90, 90, 90] } else { c };
        for p in s.points.windows(2) {
            line(
                &mut img,
                (px(p[0].0), py(p[0].1)),
                (px(p[1].0), py(p[1].1)),
                c,
                3,
                s.dashed,
            );
        }
        for p in &s.points {
            for dy in -3..=3 {
                for dx in -3..=3 {
                    put(
                        &mut img,
                        px(p.0).round() as i64 + dx,
                        py(p.1).round() as i64 + dy,
                        c,
                    );
                }
            }
        }
        let ly = top + 8 + k as i64 * 18;
        line(
            &mut img,
            ((w - right + 12) as f64, (ly + 3) as f64),
            ((w - right + 36) as f64, (ly + 3) as f64),
            c,
            3,
            s.dashed,
        );
        draw_text(&mut img, w - right + 42, ly, &s.label, dark, 1);
    }
    img.save(path)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}
