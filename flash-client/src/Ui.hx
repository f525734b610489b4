import flash.display.Sprite;
import flash.events.MouseEvent;
import flash.text.TextField;
import flash.text.TextFieldAutoSize;
import flash.text.TextFieldType;
import flash.text.TextFormat;

/** Ui holds the few widgets the softphone draws: labels, inputs, buttons. */
class Ui {
	public static var FONT = "_sans";

	public static function label(parent:Sprite, x:Float, y:Float, w:Float, text:String, size:Int = 12, color:Int = 0x1d2430):TextField {
		var t = new TextField();
		t.defaultTextFormat = new TextFormat(FONT, size, color);
		t.x = x;
		t.y = y;
		t.width = w;
		t.height = size + 8;
		t.wordWrap = true;
		t.selectable = false;
		t.text = text;
		parent.addChild(t);
		return t;
	}

	public static function input(parent:Sprite, x:Float, y:Float, w:Float, text:String, password:Bool = false):TextField {
		var t = new TextField();
		t.defaultTextFormat = new TextFormat(FONT, 13, 0x1d2430);
		t.type = TextFieldType.INPUT;
		t.border = true;
		t.borderColor = 0xc4cad3;
		t.background = true;
		t.backgroundColor = 0xffffff;
		t.x = x;
		t.y = y;
		t.width = w;
		t.height = 22;
		t.displayAsPassword = password;
		t.text = text;
		parent.addChild(t);
		return t;
	}

	public static function button(parent:Sprite, x:Float, y:Float, w:Float, text:String, color:Int, onClick:Void->Void):Sprite {
		var b = new Sprite();
		b.graphics.beginFill(color);
		b.graphics.drawRoundRect(0, 0, w, 24, 8, 8);
		b.graphics.endFill();
		var t = new TextField();
		t.defaultTextFormat = new TextFormat(FONT, 12, color == 0xe3e8ef ? 0x1d2430 : 0xffffff, true);
		t.autoSize = TextFieldAutoSize.CENTER;
		t.selectable = false;
		t.mouseEnabled = false;
		t.text = text;
		t.x = (w - t.width) / 2;
		t.y = 4;
		b.addChild(t);
		b.x = x;
		b.y = y;
		b.buttonMode = true;
		b.useHandCursor = true;
		b.addEventListener(MouseEvent.CLICK, function(_) onClick());
		parent.addChild(b);
		return b;
	}
}
