//! Line charts as PNG for `tweedie eval`'s PSNR-against-steps plots, drawn with `plotters` on its
//! bitmap backend. Text is set in DejaVu Sans, bundled in the binary (`src/plot/DejaVuSans.ttf`, its
//! licence beside it), so a chart looks the same on every machine and needs no system fonts.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

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
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// The bundled font, registered with plotters once.
fn font() -> Result<()> {
    static FONT: OnceLock<bool> = OnceLock::new();
    let ok = *FONT.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, include_bytes!("DejaVuSans.ttf"))
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Io("the bundled chart font could not be read".into()))
    }
}

/// Writes a line chart: `x_labels` evenly spaced along x, y from the data's range with a margin,
/// one coloured line with its points and a legend entry per series (dashed series in grey).
pub fn line_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    x_labels: &[String],
    series: &[Series],
) -> Result<()> {
    let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
    if ys.is_empty() || x_labels.is_empty() || ys.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input(format!("chart {title}: no finite data to plot")));
    }
    font()?;
    let (lo, hi) = ys
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.08).max(0.25);
    let (lo, hi) = ((lo - pad).floor(), (hi + pad).ceil());
    let (w, h) = (760u32, 460u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    let failed = |e: String| Error::Io(format!("cannot draw the chart {title}: {e}"));
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(e.to_string()))?;
        let n = x_labels.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
            .map_err(|e| failed(e.to_string()))?;
        let label_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                x_labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&label_of)
            // whole dB, at most about ten of them
            .y_labels(((hi - lo) as usize / ((hi - lo) / 10.0).ceil().max(1.0) as usize) + 1)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("steps")
            .y_desc(y_label)
            .label_style(("sans-serif", 13))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| failed(e.to_string()))?;
        for (k, s) in series.iter().enumerate() {
            let colour = if s.dashed {
                RGBColor(90, 90, 90)
            } else {
                PALETTE[k.min(PALETTE.len() - 1)]
            };
            let style = colour.stroke_width(3);
            let pts: Vec<(f64, f64)> = s.points.iter().map(|&(i, v)| (i as f64, v)).collect();
            let drawn = if s.dashed {
                chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 6, style))
            } else {
                chart.draw_series(LineSeries::new(pts.clone(), style))
            }
            .map_err(|e| failed(e.to_string()))?;
            drawn
                .label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3)));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(|e| failed(e.to_string()))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| failed(e.to_string()))?;
        root.present().map_err(|e| failed(e.to_string()))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| failed("buffer size".into()))?;
    img.save(path)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}
