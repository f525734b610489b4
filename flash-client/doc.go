// Package flashclient holds the SWF softphone's Haxe source (src/, built
// by `make flash` with build.hxml into bin/flashvox.swf) and the test that
// checks the built SWF. The SWF is never committed.
package flashclient
