//! Debian's chromium, headless, with nothing reachable but the file: reports are tested as a person
//! sees them.

use std::path::Path;
use std::process::Command;

/// Chromium, headless, nothing reachable but the file: `--dump-dom` of the page as rendered, and a
/// screenshot 1280 px wide kept as a test artefact.
pub fn chromium(page: &Path, shot: &Path) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let url = format!("file://{}", page.display());
    let profile_arg = format!("--user-data-dir={}", profile.path().display());
    let run = |extra: &[&str]| {
        let out = Command::new("chromium").args(common).arg(&profile_arg).args(extra).arg(&url).output();
        let out = out.expect("Debian's chromium is needed (tests/run-all.sh installs it: apt-get install chromium)");
        (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (dom, log) = run(&["--dump-dom"]);
    let _ = run(&["--hide-scrollbars", "--window-size=1280,3200", &format!("--screenshot={}", shot.display())]);
    (dom, log)
}

/// The longest horizontal run of one colour in a PNG screenshot, in pixels: how wide a chart's
/// background was drawn.
pub fn widest_run(png_file: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let mut widest = 0;
    for row in buf[..info.buffer_size()].chunks(info.line_size) {
        let mut run = 0;
        for px in row.chunks(channels) {
            run = if px[..3] == rgb { run + 1 } else { 0 };
            widest = widest.max(run);
        }
    }
    widest
}
