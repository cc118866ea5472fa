package report_test

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestHTMLInChromium renders the report in headless Chromium: the DOM after
// rendering has the chart bars with a width, and the screenshot shows them
// in the bar colour.
func TestHTMLInChromium(t *testing.T) {
	bin := "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("chromium not installed: apt-get install -y chromium")
	}
	r := build(t)
	dir := t.TempDir()
	_, page, err := r.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	chrome := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1200,2000"}
		cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
		var stderr []byte
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr)
		}
		return out
	}

	dom := string(chrome("--dump-dom", "file://"+page))
	rects := regexp.MustCompile(`<rect [^>]*width="([0-9.]+)"`).FindAllStringSubmatch(dom, -1)
	wide := 0
	for _, m := range rects {
		if w, _ := strconv.ParseFloat(m[1], 64); w > 0 {
			wide++
		}
	}
	// 2 adoption charts (2+2 versions), health (3), durations (2 stages x
	// 3 versions), cache hits (2 stages x the traced v1.2.0), failing (2);
	// v1.0.0's 0% success rate is the one empty bar.
	if len(rects) != 17 || wide != 16 {
		t.Errorf("%d of %d bars have a width after rendering, want 16 of 17", wide, len(rects))
	}
	if n := len(regexp.MustCompile(`<svg `).FindAllString(dom, -1)); n != 8 {
		t.Errorf("%d charts in the rendered DOM, want 8 (adoption 2, health, duration 2, cache 2, failing)", n)
	}
	if !regexp.MustCompile(`<b id="skipped">4</b>`).MatchString(dom) {
		t.Error("skipped count missing from the rendered page")
	}

	shot := filepath.Join(dir, "report.png")
	chrome("--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	blue := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, 0x2f) && near(g, 0x81) && near(bl, 0xf7) {
				blue++
			}
		}
	}
	// Each bar is at least 2x18 pixels; the real ones are hundreds wide.
	if blue < 16*2*18 {
		t.Errorf("%d bar-coloured pixels in the screenshot: the bars did not render", blue)
	}
	t.Logf("%d bars in the DOM, %d bar pixels in a %dx%d screenshot", wide, blue, b.Dx(), b.Dy())
}

func near(c uint32, want uint32) bool {
	v := int(c >> 8)
	return v >= int(want)-6 && v <= int(want)+6
}
