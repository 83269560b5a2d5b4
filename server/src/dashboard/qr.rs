//! QR codes as inline SVG (enrolment codes for a PRW's new phone, TOTP set-up), so the page needs
//! no image requests and no script.

use maud::{Markup, PreEscaped, html};
use qrcode::QrCode;
use qrcode::render::svg;

/// `data` as an SVG QR code, or nothing if it is too long to encode.
pub(crate) fn svg(data: &str, label: &str) -> Markup {
    match QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            // The renderer emits an XML declaration; inline SVG must not carry one.
            let body = image
                .split_once("?>")
                .map_or(image.as_str(), |(_, rest)| rest)
                .trim();
            html! { div.qr role="img" aria-label=(label) { (PreEscaped(body)) } }
        }
        Err(_) => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_inline_svg_without_an_xml_declaration() {
        let out = svg("ABCD-EFGH-JKMN", "code").into_string();
        assert!(out.contains("<svg"), "{out}");
        assert!(!out.contains("<?xml"));
        assert!(out.contains(r#"aria-label="code""#));
        assert_eq!(svg(&"x".repeat(10_000), "too long").into_string(), "");
    }
}
