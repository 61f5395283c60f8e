//! Geographic points and great-circle distance (haversine), used by the hard
//! distance constraint of matching.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    /// Latitude in degrees, −90 to 90.
    pub lat: f64,
    /// Longitude in degrees, −180 to 180.
    pub lon: f64,
}

const EARTH_RADIUS_KM: f64 = 6_371.008_8;

impl GeoPoint {
    pub fn parse(field: &str, lat: f64, lon: f64) -> Result<Self, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::one(format!("{field}.lat"), "must be a number between -90 and 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::one(format!("{field}.lon"), "must be a number between -180 and 180"));
        }
        Ok(Self { lat, lon })
    }

    /// Great-circle distance in kilometres.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangzhou_to_shanghai_is_about_165_km() {
        let hz = GeoPoint::parse("l", 30.2741, 120.1551).unwrap();
        let sh = GeoPoint::parse("l", 31.2304, 121.4737).unwrap();
        let d = hz.distance_km(&sh);
        assert!((160.0..172.0).contains(&d), "{d}");
        assert!(hz.distance_km(&hz) < 1e-9);
    }

    #[test]
    fn rejects_out_of_range_and_nan() {
        assert_eq!(GeoPoint::parse("location", 91.0, 0.0).unwrap_err().0[0].field, "location.lat");
        assert_eq!(GeoPoint::parse("location", 0.0, f64::NAN).unwrap_err().0[0].field, "location.lon");
    }
}
