package console

import (
	"net/http"
	"strings"
)

// Languages the console speaks; Japanese is the default.
const (
	langJA = "ja"
	langEN = "en"
)

// pickLang chooses the page language: ?lang=ja|en first, then the first of
// ja/en named in Accept-Language, then Japanese.
func pickLang(r *http.Request) string {
	switch r.URL.Query().Get("lang") {
	case langEN:
		return langEN
	case langJA:
		return langJA
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case tag == langJA || strings.HasPrefix(tag, "ja-"):
			return langJA
		case tag == langEN || strings.HasPrefix(tag, "en-"):
			return langEN
		}
	}
	return langJA
}

// messages are the UI strings by language; pages use them through
// templates and the script gets them as JSON.
var messages = map[string]map[string]string{
	langJA: {
		"title": "取次コンソール", "supervisor_title": "ウォールボード", "login": "ログイン", "logout": "ログアウト",
		"operator_id": "オペレーターID", "password": "パスワード",
		"login_failed": "IDまたはパスワードが違います", "login_throttled": "失敗が続いたため一時的にログインできません。しばらくしてからお試しください",
		"state": "状態", "available": "受付可", "pause": "離席", "end_wrapup": "後処理終了", "extend_wrapup": "後処理延長",
		"st_offline": "オフライン", "st_available": "受付可", "st_ringing": "呼出中", "st_on_call": "通話中", "st_wrap_up": "後処理中", "st_paused": "離席中",
		"pr_break": "休憩", "pr_lunch": "昼食", "pr_training": "研修", "pr_meeting": "打合せ", "pr_other": "その他",
		"pr_no-answer": "呼出に応答なし", "pr_logout": "ログアウト",
		"phone_down":  "ソフトフォンが登録されていません。このままでは着信しません。ソフトフォンを起動し、接続を確認してください",
		"auto_paused": "呼出に続けて応答がなかったため、離席中にしました。戻るときは「受付可」を押してください",
		"call_class":  "この電話", "class_": "通常の電話（請求対象）", "class_sales": "営業電話（お断り済み・請求対象外）",
		"class_wrong-number": "間違い電話（請求対象外）", "class_silent": "無言・いたずら（請求対象外）", "class_saved": "記録しました", "class_has_message": "この着信の伝言は保存済みで、お客様に送られています。請求対象外にはできません", "record_class": "記録", "message_unsaved": "メッセージ未保存",
		"wrapup_held": "メッセージが保存されていないため、後処理を延長しています。保存するか「後処理終了」を押すと、次の着信を受けます",
		"wrapup_left": "残り", "recent": "直前の着信", "unsaved": "未保存", "saved_mark": "保存済み", "pause_after_call": "通話後に離席", "pause_reason": "離席の理由",
		"rs_pending": "送信待ち", "rs_queued": "送信待ち", "rs_delivered": "送信済み", "rs_dead": "送信失敗", "rs_discarded": "送信取りやめ", "phone_unregistered": "ソフトフォン未登録",
		"other_call": "ソフトフォンで別の通話中です。その通話が終わるまで着信しません", "phone_other_call": "別の通話中",
		"no_call": "着信待ちです", "no_call_off": "着信はありません（「受付可」を押すと着信します）", "no_call_ringing": "着信中です（電話に出てください）", "no_call_connecting": "通話がつながりました。画面を表示しています…",
		"ringing_for": "着信中：", "connected_for": "つながりました：", "for_client": " 宛てのお電話です", "below_is_last": "（下は前の通話の画面です。まだこの会社名で出ないでください）", "client": "お客様（契約先）", "greeting": "第一声", "manual": "対応マニュアル",
		"caller": "発信者番号", "known_name": "登録名", "waited": "待ち時間", "seconds": "秒",
		"history": "この番号からの過去の受付", "no_history": "履歴はありません",
		"intake": "用件", "required": "必須", "yes": "はい", "no": "いいえ",
		"check": "内容確認", "readback": "復唱してください", "closing": "最後に", "unanswered": "未回答", "save": "この内容で保存", "saved": "保存しました",
		"relay_no_destination": "この会社には取り次ぎ先が設定されていないため、この用件はどこにも送信されません。管理者に連絡してください", "relay_not_queued": "取り次ぎの送信待ちに入れられませんでした（自動でやり直します）",
		"save_failed": "保存できませんでした", "saving": "保存中…",
		"saved_other": "前の着信の用件を保存しました", "control_failed": "操作できませんでした", "new_call": "新しい着信", "save_conflict": "この用件は変更前の内容で保存済みです。変更は「訂正」で保存してください", "saved_elsewhere": "この着信の伝言は別の画面で保存済みです。入力した内容は、その伝言の訂正として残しています。確認して保存し直してください", "saved_elsewhere_now": "この着信の伝言が別の画面で保存されました（履歴に表示）。変更があれば「訂正」で保存してください", "saved_elsewhere_retry": "通信が戻りましたが、この着信の伝言は別の画面で保存済みでした。送れていなかった内容は保存していません。その伝言の訂正として残しています。確認して保存し直してください",
		"save_unknown":   "通信できず、保存できたか分かりません。通信が戻りしだい自動でもう一度送ります（「この内容で保存」をもう一度押しても二重には保存されません）",
		"pending_saves":  "送れていない用件が {n} 件あります。通信が戻りしだい自動で送ります（二重には保存されません）",
		"saved_on_retry": "通信が戻り、送れていなかった用件を保存しました", "saved_on_retry_changed": "通信が戻り、送れていなかった用件を保存しました。その後の変更は「訂正」で保存してください",
		"retry_refused":  "送れていなかった用件が受け付けられませんでした。直前の着信から開いて確認し、保存し直してください",
		"logout_pending": "送れていない用件が {n} 件あります。ログアウトすると失われます。ログアウトしますか？", "logout_failed": "ログアウトできませんでした（通信を確認して、もう一度押してください）。入力中の内容は残っています", "fix_errors": "入力内容を確認してください", "correct": "訂正",
		"ari_down": "Asterisk との接続が切れています。新しい着信は受けられず、代替の案内（時間をおいておかけ直しください）が流れています", "correcting": "訂正中", "cancel_correct": "訂正をやめる", "fix_draft_back": "途中だった訂正を戻しました", "back_to_current": "現在の着信に戻る", "corrected_meanwhile": "この用件は他の人が訂正しました。最新の内容に、あなたの変更を重ねて表示しています。内容確認から保存し直してください", "changed_by_both": "。両方が変えた項目（あなたの値を表示）: ", "relay": "送信状況", "connection_lost": "接続が切れました。再接続中…",
		"operators": "オペレーター", "since": "経過", "waiting": "待ち呼", "count": "件数", "oldest": "最長待ち",
		"today": "本日", "answered": "応答", "abandoned": "放棄", "service_level": "サービスレベル",
		"forbidden": "権限がありません",
		"callbacks": "折返し依頼", "number": "番号", "requested_at": "依頼時刻", "done": "完了", "cb_who": "対応", "cb_claim": "対応する", "cb_mine": "あなたが対応中", "cb_theirs": "{name}が対応中", "cb_taken": "他のオペレーターが対応中です", "cb_done_already": "既に完了しています",
		"callback_failed": "完了にできませんでした",
	},
	langEN: {
		"title": "Operator console", "supervisor_title": "Wallboard", "login": "Log in", "logout": "Log out",
		"operator_id": "Operator ID", "password": "Password",
		"login_failed": "Wrong ID or password", "login_throttled": "Too many failed attempts. Please wait and try again",
		"state": "State", "available": "Available", "pause": "Pause", "end_wrapup": "End wrap-up", "extend_wrapup": "Extend wrap-up",
		"st_offline": "Offline", "st_available": "Available", "st_ringing": "Ringing", "st_on_call": "On call", "st_wrap_up": "Wrap-up", "st_paused": "Paused",
		"pr_break": "Break", "pr_lunch": "Lunch", "pr_training": "Training", "pr_meeting": "Meeting", "pr_other": "Other",
		"pr_no-answer": "rings not answered", "pr_logout": "logged out",
		"phone_down":  "Your softphone is not registered: no call will ring. Start it and check its connection",
		"auto_paused": "Paused after rings went unanswered. Press Available when you are back",
		"call_class":  "This call", "class_": "Ordinary call (billed)", "class_sales": "Sales call, refused (not billed)",
		"class_wrong-number": "Wrong number (not billed)", "class_silent": "Silent or prank (not billed)", "class_saved": "Recorded", "class_has_message": "This call's message is saved and sent to the client: the call cannot be marked as not billed", "record_class": "Record", "message_unsaved": "message not saved",
		"wrapup_held": "Wrap-up goes on because the call's message is not saved. Save it, or press End wrap-up, to take the next call",
		"wrapup_left": "left", "recent": "Earlier calls", "unsaved": "not saved", "saved_mark": "saved", "pause_after_call": "away after this call", "pause_reason": "Pause reason",
		"rs_pending": "pending", "rs_queued": "pending", "rs_delivered": "delivered", "rs_dead": "failed", "rs_discarded": "discarded", "phone_unregistered": "softphone not registered",
		"other_call": "Your softphone is on another call: no call rings until it ends", "phone_other_call": "on another call",
		"no_call": "Waiting for a call", "no_call_off": "No call (press Available to take calls)", "no_call_ringing": "Your phone is ringing: answer it", "no_call_connecting": "Connected: the call's screen is on its way…",
		"ringing_for": "Ringing: ", "connected_for": "Connected: ", "for_client": ", a call for this client", "below_is_last": " (below is the last call's screen: do not answer in its name)", "client": "Client", "greeting": "Greeting", "manual": "Manual",
		"caller": "Caller", "known_name": "Known as", "waited": "Waited", "seconds": "s",
		"history": "Earlier calls from this number", "no_history": "No history",
		"intake": "Message", "required": "required", "yes": "Yes", "no": "No",
		"check": "Check", "readback": "Read back to the caller", "closing": "Before hanging up", "unanswered": "No answer", "save": "Save", "saved": "Saved",
		"relay_no_destination": "This client has no relay destination: the message will not be sent anywhere. Tell your administrator", "relay_not_queued": "The message could not be queued for relay yet (it is tried again by itself)",
		"save_failed": "Could not save", "saving": "Saving…",
		"saved_other": "The earlier call's message was saved", "control_failed": "That did not work", "new_call": "New call", "save_conflict": "Saved already with the values before your change: use Correct to save the change", "saved_elsewhere": "This call's message was saved on another screen: what you typed is kept as its correction. Check it and save again", "saved_elsewhere_now": "This call's message was saved on another screen (see the history): save any change with Correct", "saved_elsewhere_retry": "Connection back: this call's message had been saved on another screen, so the one not sent was not saved. It is kept as that message's correction: check it and save again",
		"save_unknown":   "No answer: the message may not be saved. It is sent again as soon as the connection is back (pressing Save again will not save it twice)",
		"pending_saves":  "{n} message(s) not sent yet: they are sent as soon as the connection is back (never twice)",
		"saved_on_retry": "Connection back: the message not sent before is saved", "saved_on_retry_changed": "Connection back: the message not sent before is saved. Save your later changes with Correct",
		"retry_refused":  "A message not sent before was refused once the connection was back: open it from recent calls, check it and save it again",
		"logout_pending": "{n} message(s) not sent yet will be lost if you log out. Log out?", "logout_failed": "Could not log out (check the connection and press it again). What you typed is kept", "fix_errors": "Please check the form", "correct": "Correct",
		"ari_down": "The link to Asterisk is down: new calls get the fallback message (please call again later)", "correcting": "Correcting", "cancel_correct": "Stop correcting", "fix_draft_back": "Your unfinished correction is back", "back_to_current": "Back to the current call", "corrected_meanwhile": "Someone corrected this message meanwhile: its latest version is shown with your changes on it; check and save again", "changed_by_both": ". Changed by both (yours shown): ", "relay": "Delivery", "connection_lost": "Connection lost, reconnecting…",
		"operators": "Operators", "since": "In state", "waiting": "Waiting", "count": "Calls", "oldest": "Oldest",
		"today": "Today", "answered": "Answered", "abandoned": "Abandoned", "service_level": "Service level",
		"forbidden": "Forbidden",
		"callbacks": "Callback requests", "number": "Number", "requested_at": "Requested", "done": "Done", "cb_who": "Taken by", "cb_claim": "Take", "cb_mine": "you", "cb_theirs": "{name}", "cb_taken": "Another operator is calling back", "cb_done_already": "Already done",
		"callback_failed": "Could not mark as done",
	},
}
