import flash.Lib;
import flash.display.Sprite;
import flash.display.StageAlign;
import flash.display.StageScaleMode;
import flash.events.Event;
import flash.events.SampleDataEvent;
import flash.external.ExternalInterface;
import flash.media.Sound;
import flash.media.SoundChannel;
import flash.text.TextField;

/**
 * The flashvox SWF softphone: sign in, contacts with presence, call /
 * answer / reject / hang up, ring, mute, volume, microphone level, DTMF
 * pad, call timer, and a clear message for every failure. The page can
 * drive it through ExternalInterface (see web/static/flash.js).
 */
class Main extends Sprite {
	static inline var GREEN = 0x1f9d55;
	static inline var RED = 0xd64545;
	static inline var BLUE = 0x3b6fd8;
	static inline var GREY = 0xe3e8ef;

	var phone = new Phone();
	var server:TextField;
	var userField:TextField;
	var passField:TextField;
	var toField:TextField;
	var status:TextField;
	var callLine:TextField;
	var timerText:TextField;
	var contactsText:TextField;
	var volText:TextField;
	var level:Sprite;
	var answerBtn:Sprite;
	var rejectBtn:Sprite;
	var hangupBtn:Sprite;
	var muteBtn:Sprite;
	var contacts:Map<String, String> = new Map();
	var callStart:Float = 0;
	var ring:Sound;
	var ringing:SoundChannel;
	var jsReady:String = "flashvoxSWF";

	static function main() {
		var stage = Lib.current.stage;
		stage.scaleMode = StageScaleMode.NO_SCALE;
		stage.align = StageAlign.TOP_LEFT;
		Lib.current.addChild(new Main());
	}

	function new() {
		super();
		var params:Dynamic = Lib.current.loaderInfo.parameters;
		if (params.jsReady != null)
			jsReady = params.jsReady;
		phone.useNellymoser = params.codec == "nellymoser";
		var host = "127.0.0.1";
		var r = ~/^https?:\/\/([^\/:]+)/;
		if (r.match(Lib.current.loaderInfo.url))
			host = r.matched(1);
		var defaultServer:String = params.server != null ? params.server : "rtmp://" + host + "/phone";
		if (params.contacts != null)
			for (c in (params.contacts : String).split(","))
				if (c != "")
					contacts.set(c, "unknown");

		graphics.beginFill(0xeef1f5);
		graphics.drawRect(0, 0, 320, 420);
		graphics.endFill();
		Ui.label(this, 10, 6, 300, "flashvox phone", 16, BLUE);
		server = Ui.input(this, 10, 32, 300, defaultServer);
		userField = Ui.input(this, 10, 58, 110, params.user != null ? params.user : "");
		passField = Ui.input(this, 126, 58, 110, "", true);
		Ui.button(this, 242, 57, 68, "Sign in", BLUE, signIn);
		status = Ui.label(this, 10, 86, 300, "Enter user and password, then sign in.", 12, 0x555555);
		status.height = 34;

		toField = Ui.input(this, 10, 124, 200, "");
		Ui.button(this, 216, 123, 94, "Call", GREEN, function() phone.invite(StringTools.trim(toField.text)));
		callLine = Ui.label(this, 10, 152, 220, "", 13);
		timerText = Ui.label(this, 240, 152, 70, "", 13);
		answerBtn = Ui.button(this, 10, 176, 70, "Answer", GREEN, phone.accept);
		rejectBtn = Ui.button(this, 86, 176, 70, "Reject", RED, phone.reject);
		hangupBtn = Ui.button(this, 162, 176, 70, "Hang up", RED, phone.hangup);
		muteBtn = Ui.button(this, 238, 176, 72, "Mute", GREY, toggleMute);

		Ui.label(this, 10, 206, 40, "Vol", 12);
		Ui.button(this, 40, 206, 24, "-", GREY, function() setVolume(phone.getVolume() - 0.1));
		volText = Ui.label(this, 68, 208, 40, "100%", 12);
		Ui.button(this, 106, 206, 24, "+", GREY, function() setVolume(phone.getVolume() + 0.1));
		Ui.label(this, 140, 208, 30, "Mic", 12);
		level = new Sprite();
		level.x = 170;
		level.y = 212;
		addChild(level);

		var keys = "123456789*0#";
		for (i in 0...keys.length) {
			var d = keys.charAt(i);
			Ui.button(this, 10 + (i % 3) * 44, 240 + Std.int(i / 3) * 28, 40, d, GREY, function() phone.dtmf(d));
		}
		Ui.label(this, 150, 238, 160, "Contacts (click to call)", 12, 0x555555);
		contactsText = Ui.label(this, 150, 256, 160, "", 12);
		contactsText.height = 150;
		contactsText.multiline = true;
		contactsText.addEventListener(flash.events.TextEvent.LINK, function(e:flash.events.TextEvent) phone.invite(e.text));

		ring = new Sound();
		ring.addEventListener(SampleDataEvent.SAMPLE_DATA, ringSamples);
		phone.onEvent = onPhone;
		addEventListener(Event.ENTER_FRAME, tick);
		render();
		exposeToPage();
	}

	function signIn():Void {
		phone.connect(StringTools.trim(server.text), StringTools.trim(userField.text), passField.text);
	}

	function toggleMute():Void {
		phone.setMuted(!phone.isMuted());
		render();
	}

	function setVolume(v:Float):Void {
		phone.setVolume(v);
		volText.text = Math.round(phone.getVolume() * 100) + "%";
	}

	// ---- phone events ----

	function onPhone(kind:String, data:Dynamic):Void {
		switch (kind) {
			case "status":
				status.text = data;
			case "error":
				status.text = data;
			case "connected":
				status.text = "Signed in as " + data + ".";
			case "closed":
				status.text = data;
			case "event":
				onCallEvent(data);
		}
		render();
		toPage(kind, data);
	}

	function onCallEvent(e:Dynamic):Void {
		var type:String = e.type;
		switch (type) {
			case "presence":
				contacts.set(e.user, e.status);
			case "incoming":
				status.text = "Incoming call from " + e.from;
			case "ringing":
				status.text = "Ringing " + e.to + " …";
			case "accepted":
				callStart = haxe.Timer.stamp();
				status.text = "Connected.";
			case "rejected", "cancelled", "bye":
				status.text = endMessage(type, e.reason, e.by, e.from == phone.user ? e.to : e.from);
			case "dtmf":
				status.text = e.by + " sent " + e.digits;
		}
	}

	/** A clear message for how a call ended. */
	static function endMessage(type:String, reason:String, by:String, peer:String):String {
		return switch (reason) {
			case "busy": peer + " is busy.";
			case "offline": peer + " is offline.";
			case "no_answer": "No answer from " + peer + ".";
			case "rejected": peer + " declined the call.";
			case "cancelled": peer + " hung up before the answer.";
			case "gone": "Call dropped: " + peer + " disconnected.";
			case "shutdown": "The server shut down.";
			case "answered_elsewhere": "Answered on another device.";
			case "hangup": "Call ended" + (by != null && by != "" ? " by " + by : "") + ".";
			default: "Call " + type + (reason == null ? "" : ": " + reason) + ".";
		}
	}

	function render():Void {
		var s = phone.state;
		callLine.text = switch (s) {
			case "calling": "Calling " + phone.peer + " …";
			case "ringing": "Ringing " + phone.peer + " …";
			case "incoming": "Call from " + phone.peer;
			case "active": "In call with " + phone.peer;
			default: phone.connected() ? "Ready" : "Not signed in";
		};
		answerBtn.visible = rejectBtn.visible = s == "incoming";
		hangupBtn.visible = s == "calling" || s == "ringing" || s == "active";
		muteBtn.alpha = phone.isMuted() ? 0.5 : 1;
		if (s == "incoming" && ringing == null)
			ringing = ring.play();
		if (s != "incoming" && ringing != null) {
			ringing.stop();
			ringing = null;
		}
		var html = "";
		var names = [for (k in contacts.keys()) k];
		names.sort(function(a, b) return a < b ? -1 : (a > b ? 1 : 0));
		for (n in names) {
			if (n == phone.user)
				continue;
			var st = contacts.get(n);
			var color = st == "online" ? "#1f9d55" : (st == "busy" ? "#d64545" : "#888888");
			html += '<font color="$color">●</font> <a href="event:$n"><u>$n</u></a> <font color="#666666">$st</font><br>';
		}
		contactsText.htmlText = html;
	}

	function tick(_):Void {
		timerText.text = phone.state == "active" ? clock(haxe.Timer.stamp() - callStart) : "";
		var l = phone.micLevel();
		level.graphics.clear();
		level.graphics.beginFill(0xc4cad3);
		level.graphics.drawRect(0, 0, 140, 8);
		level.graphics.beginFill(l < 0 ? 0xc4cad3 : GREEN);
		level.graphics.drawRect(0, 0, l < 0 ? 0 : 1.4 * l, 8);
		level.graphics.endFill();
	}

	static function clock(secs:Float):String {
		var s = Std.int(secs);
		var m = Std.int(s / 60);
		s = s % 60;
		return m + ":" + (s < 10 ? "0" : "") + s;
	}

	// A ring tone (440 + 480 Hz, 2 s on, 4 s off) made from samples.
	var ringPos:Float = 0;

	function ringSamples(e:SampleDataEvent):Void {
		for (i in 0...2048) {
			var t = ringPos / 44100;
			var on = (t % 6) < 2;
			var v = on ? 0.15 * (Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 480 * t)) : 0;
			e.data.writeFloat(v);
			e.data.writeFloat(v);
			ringPos++;
		}
	}

	// ---- ExternalInterface ----

	function exposeToPage():Void {
		if (!ExternalInterface.available)
			return;
		try {
			ExternalInterface.addCallback("fvConnect", function(url:String, user:String, secret:String) {
				server.text = url;
				userField.text = user;
				phone.connect(url, user, secret);
			});
			ExternalInterface.addCallback("fvInvite", function(to:String) phone.invite(to));
			ExternalInterface.addCallback("fvAccept", phone.accept);
			ExternalInterface.addCallback("fvReject", phone.reject);
			ExternalInterface.addCallback("fvHangup", phone.hangup);
			ExternalInterface.addCallback("fvDTMF", function(d:String) phone.dtmf(d));
			ExternalInterface.addCallback("fvMute", function(m:Bool) {
				phone.setMuted(m);
				render();
			});
			ExternalInterface.addCallback("fvVolume", function(v:Float) setVolume(v));
			ExternalInterface.addCallback("fvMedia", function(pub:String, play:String) phone.startCall(pub, play));
			ExternalInterface.addCallback("fvStop", phone.stopMedia);
			ExternalInterface.addCallback("fvContacts", function(c:Dynamic) {
				for (k in Reflect.fields(c))
					contacts.set(k, Reflect.field(c, k));
				render();
			});
			ExternalInterface.addCallback("fvMicLevel", phone.micLevel);
			toPage("ready", null);
		} catch (e:Dynamic) {
			status.text = "Page bridge unavailable: " + e;
		}
	}

	function toPage(kind:String, data:Dynamic):Void {
		if (ExternalInterface.available)
			try
				ExternalInterface.call(jsReady, kind, data)
			catch (e:Dynamic) {}
	}
}
