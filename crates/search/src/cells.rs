//! Geography as terms, so "near here" narrows the search through the inverted
//! index like any other filter, at a cost that follows the area asked about,
//! not the catalogue (a range query on coordinates would scan a column).
//!
//! The plane of latitude and longitude is cut into square cells at three
//! sizes. A located document carries the cell it lies in at each size
//! (`cell`); a circle is covered by the cells of the finest size that needs
//! at most [`MAX_CELLS`] of them. A demand with a radius also carries the
//! cells its circle covers (in its pool terms, `pool.rs`), so an offer finds
//! the demands that reach it by its own cells. The cells only narrow: the exact distance is
//! still checked on every document (`reach.rs`). Longitudes are not wrapped
//! at ±180°: a circle across the antimeridian finds only its own side.

use wantloop_core::GeoPoint;

/// Cell sides in degrees, coarse to fine: about 111, 28 and 7 km of latitude.
const SIZES: [f64; 3] = [1.0, 0.25, 0.0625];
/// Most cells a circle's query may name.
pub const MAX_CELLS: usize = 16;
/// The reach cell of a demand without a radius: any place will do.
pub const ANYWHERE: &str = "any";

fn cell(level: usize, lat: f64, lon: f64) -> String {
    let size = SIZES[level];
    format!("{level}:{}:{}", (lat / size).floor() as i64, (lon / size).floor() as i64)
}

/// The cells a point lies in, one per size.
pub fn of_point(p: GeoPoint) -> Vec<String> {
    (0..SIZES.len()).map(|level| cell(level, p.lat, p.lon)).collect()
}

/// The cells that cover a circle, at the finest size that needs at most
/// [`MAX_CELLS`]; `None` when even the coarsest needs more (a radius of
/// hundreds of km: then only the exact check applies).
pub fn covering(at: GeoPoint, km: f64) -> Option<Vec<String>> {
    let dlat = km / 111.0;
    // The longitude span of the circle is widest at its poleward edge.
    let dlon = km / (111.0 * (at.lat.abs() + dlat).min(89.9).to_radians().cos().max(0.01));
    (0..SIZES.len()).rev().find_map(|level| {
        let size = SIZES[level];
        let span = |lo: f64, hi: f64| ((lo / size).floor() as i64)..=((hi / size).floor() as i64);
        let (lats, lons) = (span(at.lat - dlat, at.lat + dlat), span(at.lon - dlon, at.lon + dlon));
        let count = lats.clone().count() * lons.clone().count();
        (count <= MAX_CELLS)
            .then(|| lats.flat_map(|a| lons.clone().map(move |o| format!("{level}:{a}:{o}"))).collect::<Vec<String>>())
    })
}

/// What a demand indexes as its reach: the cells its circle covers, or
/// [`ANYWHERE`] without a radius (with a radius but no place, nothing: it can
/// reach no offer).
pub fn reach_of(location: Option<GeoPoint>, max_km: Option<f64>) -> Vec<String> {
    match (max_km, location) {
        (None, _) => vec![ANYWHERE.to_string()],
        // Too wide to name its cells: indexed as reaching anywhere, and the
        // exact check decides.
        (Some(km), Some(at)) => covering(at, km).unwrap_or_else(|| vec![ANYWHERE.to_string()]),
        (Some(_), None) => Vec::new(),
    }
}

/// The reach cells a demand must carry to reach an offer at `p`: any of
/// the offer's cells, or [`ANYWHERE`].
pub fn reaching(p: Option<GeoPoint>) -> Vec<String> {
    let mut terms = vec![ANYWHERE.to_string()];
    terms.extend(p.map(of_point).unwrap_or_default());
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every point within the circle lies in one of its covering cells (at
    /// the covering's size), for circles of many sizes and places.
    #[test]
    fn a_circle_s_cells_hold_every_point_inside_it() {
        for (lat, lon) in [(30.27, 120.15), (-33.9, 18.4), (64.1, -21.9), (0.0, 0.0), (30.0, 120.0)] {
            let at = GeoPoint { lat, lon };
            for km in [0.5, 3.0, 10.0, 40.0, 120.0] {
                let Some(cells) = covering(at, km) else { continue };
                assert!(cells.len() <= MAX_CELLS);
                let level: usize = cells[0][..1].parse().unwrap();
                for i in 0..72 {
                    for frac in [0.2, 0.6, 0.99] {
                        let bearing = f64::from(i) * 5.0_f64.to_radians();
                        let d = km * frac / 111.2;
                        let p = GeoPoint {
                            lat: lat + d * bearing.cos(),
                            lon: lon + d * bearing.sin() / lat.to_radians().cos(),
                        };
                        if p.distance_km(&at) > km {
                            continue;
                        }
                        assert!(cells.contains(&of_point(p)[level]), "{p:?} within {km} km of {at:?}: {cells:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn small_circles_use_fine_cells_and_huge_ones_none() {
        let at = GeoPoint { lat: 30.27, lon: 120.15 };
        assert!(covering(at, 3.0).unwrap()[0].starts_with("2:"));
        assert!(covering(at, 60.0).unwrap()[0].starts_with("1:") || covering(at, 60.0).unwrap()[0].starts_with("0:"));
        assert_eq!(covering(at, 2_000.0), None);
        assert_eq!(reach_of(Some(at), Some(2_000.0)), [ANYWHERE]);
        assert_eq!(reach_of(None, None), [ANYWHERE]);
        assert!(reach_of(None, Some(5.0)).is_empty());
        assert_eq!(reaching(Some(at)).len(), 1 + SIZES.len());
    }
}
