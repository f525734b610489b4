import flash.events.AsyncErrorEvent;
import flash.events.IOErrorEvent;
import flash.events.NetStatusEvent;
import flash.events.SecurityErrorEvent;
import flash.media.Microphone;
import flash.media.SoundCodec;
import flash.media.SoundTransform;
import flash.net.NetConnection;
import flash.net.NetStream;
import flash.net.ObjectEncoding;
import flash.net.Responder;

/**
 * Phone speaks the flashvox `phone` application protocol (docs/PROTOCOL.md):
 * connect(user, secret), the commands invite/accept/reject/bye/sendDTMF,
 * the pushes onIncomingCall/onRinging/onAccepted/onRejected/onCancelled/
 * onBye/onPresence/onDTMF, and the issued publish/play stream names.
 * It has no user interface: Ui and the page (through ExternalInterface)
 * drive it and listen to `onEvent`.
 */
class Phone {
	// Command and push names of the phone application.
	public static inline var INVITE = "invite";
	public static inline var ACCEPT = "accept";
	public static inline var REJECT = "reject";
	public static inline var BYE = "bye";
	public static inline var SEND_DTMF = "sendDTMF";

	/** Called with (kind, data): "status", "error", "connected", "closed", "event". */
	public var onEvent:String->Dynamic->Void;

	public var user(default, null):String = "";
	public var callId(default, null):String = "";
	public var state(default, null):String = "idle"; // idle, calling, ringing, incoming, active
	public var peer(default, null):String = "";
	public var useNellymoser:Bool = false;

	var nc:NetConnection;
	var urls:Array<String>;
	var secret:String;
	var pub:NetStream;
	var play:NetStream;
	var mic:Microphone;
	var muted:Bool = false;
	var volume:Float = 1.0;

	public function new() {}

	/** Connects to url (rtmp://host/phone); when RTMP is blocked it tries RTMPT. */
	public function connect(url:String, user:String, secret:String):Void {
		close();
		this.user = user;
		this.secret = secret;
		urls = [url];
		var t = rtmptURL(url);
		if (t != null)
			urls.push(t);
		next();
	}

	/** rtmp://host[:port]/app becomes rtmpt://host:8080/app (flashvox's HTTP port). */
	public static function rtmptURL(url:String):String {
		var r = ~/^rtmp:\/\/([^\/:]+)(:[0-9]+)?\/(.*)$/;
		if (!r.match(url))
			return null;
		return "rtmpt://" + r.matched(1) + ":8080/" + r.matched(3);
	}

	function next():Void {
		if (urls.length == 0) {
			emit("error", "Server unreachable: no RTMP (port 1935) nor RTMPT (port 8080) connection");
			return;
		}
		var url = urls.shift();
		emit("status", "Connecting to " + url + " …");
		nc = new NetConnection();
		nc.objectEncoding = ObjectEncoding.AMF0;
		nc.client = {
			onIncomingCall: onIncomingCall,
			onRinging: onRinging,
			onAccepted: onAccepted,
			onRejected: onEnded,
			onCancelled: onEnded,
			onBye: onEnded,
			onPresence: onPresence,
			onDTMF: onDTMF
		};
		nc.addEventListener(NetStatusEvent.NET_STATUS, onStatus);
		nc.addEventListener(SecurityErrorEvent.SECURITY_ERROR, function(e:SecurityErrorEvent) emit("error", "Security error: " + e.text));
		nc.addEventListener(IOErrorEvent.IO_ERROR, function(e:IOErrorEvent) emit("error", "Network error: " + e.text));
		nc.addEventListener(AsyncErrorEvent.ASYNC_ERROR, function(e:AsyncErrorEvent) emit("error", "Async error: " + e.text));
		nc.connect(url, user, secret);
	}

	function onStatus(e:NetStatusEvent):Void {
		var code:String = e.info.code;
		switch (code) {
			case "NetConnection.Connect.Success":
				emit("connected", user);
			case "NetConnection.Connect.Rejected":
				var why:String = e.info.description;
				urls = [];
				emit("error", "Sign-in refused: " + (why == null ? "rejected" : why));
			case "NetConnection.Connect.Failed":
				next();
			case "NetConnection.Connect.Closed":
				stopMedia();
				state = "idle";
				emit("closed", "Disconnected from the server");
		}
	}

	public function close():Void {
		stopMedia();
		if (nc != null) {
			nc.close();
			nc = null;
		}
		state = "idle";
		callId = "";
	}

	public function connected():Bool {
		return nc != null && nc.connected;
	}

	function call(name:String, args:Array<Dynamic>, ?ok:Dynamic->Void):Void {
		if (!connected()) {
			emit("error", "Not connected");
			return;
		}
		var r = new Responder(function(res:Dynamic) if (ok != null) ok(res), function(err:Dynamic) {
			var d:String = err == null ? null : err.description;
			emit("error", d == null ? name + " failed" : d);
		});
		switch (args.length) {
			case 0: nc.call(name, r);
			case 1: nc.call(name, r, args[0]);
			default: nc.call(name, r, args[0], args[1]);
		}
	}

	public function invite(to:String):Void {
		if (state != "idle")
			return;
		state = "calling";
		peer = to;
		call(INVITE, [to], function(res:Dynamic) {
			if (res != null && state == "calling" && callId == "")
				callId = res.call;
		});
	}

	public function accept():Void {
		if (state != "incoming")
			return;
		call(ACCEPT, [callId], function(res:Dynamic) {
			if (res != null)
				startCall(res.publish, res.play);
		});
	}

	public function reject():Void {
		if (state == "incoming")
			call(REJECT, [callId]);
	}

	public function hangup():Void {
		if (callId != "" && state != "idle")
			call(BYE, [callId]);
	}

	public function dtmf(digits:String):Void {
		if (state == "active")
			call(SEND_DTMF, [callId, digits]);
	}

	// ---- pushes ----

	function onIncomingCall(e:Dynamic):Void {
		if (state != "idle")
			return;
		state = "incoming";
		callId = e.call;
		peer = e.from;
		emit("event", e);
	}

	function onRinging(e:Dynamic):Void {
		if (state == "calling") {
			state = "ringing";
			callId = e.call;
		}
		emit("event", e);
	}

	function onAccepted(e:Dynamic):Void {
		var mine = (state == "calling" || state == "ringing") && (callId == "" || callId == e.call);
		if (mine) {
			callId = e.call;
			startCall(e.publish, e.play);
		}
		emit("event", e);
	}

	function onEnded(e:Dynamic):Void {
		if (callId == "" || e.call == callId) {
			stopMedia();
			state = "idle";
			callId = "";
		}
		emit("event", e);
	}

	function onPresence(e:Dynamic):Void {
		emit("event", e);
	}

	function onDTMF(e:Dynamic):Void {
		emit("event", e);
	}

	// ---- media ----

	/** Publishes the microphone as publishName and plays playName (relay mode). */
	public function startCall(publishName:String, playName:String):Void {
		stopMedia();
		state = "active";
		mic = Microphone.getMicrophone();
		if (mic == null) {
			emit("error", "No microphone: you can listen but not talk");
		} else {
			if (useNellymoser) {
				mic.codec = SoundCodec.NELLYMOSER;
				mic.rate = 16;
			} else {
				mic.codec = SoundCodec.SPEEX;
				mic.rate = 16;
				mic.encodeQuality = 6;
				mic.framesPerPacket = 1;
			}
			mic.setSilenceLevel(0);
			mic.setUseEchoSuppression(true);
		}
		pub = new NetStream(nc);
		pub.addEventListener(NetStatusEvent.NET_STATUS, onStreamStatus);
		if (mic != null && !muted)
			pub.attachAudio(mic);
		pub.publish(publishName, "live");
		play = new NetStream(nc);
		play.addEventListener(NetStatusEvent.NET_STATUS, onStreamStatus);
		play.bufferTime = 0;
		play.soundTransform = new SoundTransform(volume);
		play.play(playName + "?codec=" + (useNellymoser ? "nellymoser" : "speex"));
		emit("status", "In call with " + peer);
	}

	function onStreamStatus(e:NetStatusEvent):Void {
		if (e.info.level == "error")
			emit("error", "Media: " + e.info.code + (e.info.description == null ? "" : " " + e.info.description));
	}

	public function stopMedia():Void {
		if (pub != null) {
			pub.attachAudio(null);
			pub.close();
			pub = null;
		}
		if (play != null) {
			play.close();
			play = null;
		}
	}

	public function setMuted(m:Bool):Void {
		muted = m;
		if (pub != null)
			pub.attachAudio(m || mic == null ? null : mic);
	}

	public function isMuted():Bool {
		return muted;
	}

	public function setVolume(v:Float):Void {
		volume = v < 0 ? 0 : (v > 1 ? 1 : v);
		if (play != null)
			play.soundTransform = new SoundTransform(volume);
	}

	public function getVolume():Float {
		return volume;
	}

	/** Microphone activity 0..100 (-1 without a microphone or call). */
	public function micLevel():Float {
		return (mic == null || pub == null || muted) ? -1 : mic.activityLevel;
	}

	function emit(kind:String, data:Dynamic):Void {
		if (onEvent != null)
			onEvent(kind, data);
	}
}
