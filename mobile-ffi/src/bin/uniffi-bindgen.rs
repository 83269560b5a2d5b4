//! The pinned UniFFI bindgen (same uniffi version as the library), run from the workspace:
//! `target/debug/uniffi-bindgen generate --no-format target/debug/libpeerlog_ffi.so --language kotlin --out-dir …`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
