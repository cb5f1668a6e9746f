// Package consoletest drives the operator console in real headless
// Chromium for tests: it starts the browser with a fresh profile, runs
// chromedp actions under a deadline with a useful failure message, polls
// JavaScript conditions and reads what the page shows.
//
// Chromium is required at [ChromiumPath]; a missing binary fails the test
// (it is never skipped). .ci/run installs it before the tests.
package consoletest
