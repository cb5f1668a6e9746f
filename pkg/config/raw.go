package config

import (
	"bytes"
	"fmt"

	"github.com/spf13/viper"
)

// The raw structs receive the configuration from viper. Every scalar is a
// string (the document walk made them so); converting and validating is
// done afterwards, where each value's path and position are known.

type rawConfig struct {
	ARI             rawARI  `mapstructure:"ari"`
	HTTP            rawHTTP `mapstructure:"http"`
	DataDir         string  `mapstructure:"data_dir"`
	LogLevel        string  `mapstructure:"log_level"`
	UnknownDIDSound string  `mapstructure:"unknown_did_sound"`
	AnswerSilence   string  `mapstructure:"answer_silence"`
	Trunk           string  `mapstructure:"trunk"`
	SoundsDir       string  `mapstructure:"sounds_dir"`
	FallbackLog     string  `mapstructure:"fallback_log"`
	// IntakeRetentionDays: "0" keeps messages for ever.
	IntakeRetentionDays string `mapstructure:"intake_retention_days"`
	// CallRecordRetentionDays: "0" keeps call records for ever.
	CallRecordRetentionDays string        `mapstructure:"call_record_retention_days"`
	Queue                   rawQueue      `mapstructure:"queue"`
	Clients                 []rawClient   `mapstructure:"clients"`
	Operators               []rawOperator `mapstructure:"operators"`
	Relay                   rawRelay      `mapstructure:"relay"`
}

type rawRelay struct {
	Destinations []rawDestination `mapstructure:"destinations"`
}

type rawDestination struct {
	Name   string `mapstructure:"name"`
	Type   string `mapstructure:"type"`
	URL    string `mapstructure:"url"`
	To     string `mapstructure:"to"`
	Token  string `mapstructure:"token"`
	Secret string `mapstructure:"secret"`
	RoomID string `mapstructure:"room_id"`
	BotID  string `mapstructure:"bot_id"`
	// LINE WORKS service account (JWT) credentials.
	ClientID       string `mapstructure:"client_id"`
	ClientSecret   string `mapstructure:"client_secret"`
	ServiceAccount string `mapstructure:"service_account"`
	PrivateKeyFile string `mapstructure:"private_key_file"`
	Scope          string `mapstructure:"scope"`
	Addr           string `mapstructure:"addr"`
	From           string `mapstructure:"from"`
	Username       string `mapstructure:"username"`
	Password       string `mapstructure:"password"`
	Insecure       string `mapstructure:"insecure"`
	Timeout        string `mapstructure:"timeout"`
}

type rawClientRelay struct {
	To          []string       `mapstructure:"to"`
	Rules       []rawRelayRule `mapstructure:"rules"`
	Urgent      []string       `mapstructure:"urgent"`
	Template    string         `mapstructure:"template"`
	MissedCalls string         `mapstructure:"missed_calls"`
	Voicemails  string         `mapstructure:"voicemails"`
}

type rawRelayRule struct {
	Field  string   `mapstructure:"field"`
	Equals *string  `mapstructure:"equals"`
	To     []string `mapstructure:"to"`
	Urgent string   `mapstructure:"urgent"`
}

type rawARI struct {
	URL            string `mapstructure:"url"`
	User           string `mapstructure:"user"`
	Password       string `mapstructure:"password"`
	App            string `mapstructure:"app"`
	RequestTimeout string `mapstructure:"request_timeout"`
	PingInterval   string `mapstructure:"ping_interval"`
}

type rawHTTP struct {
	Listen        string  `mapstructure:"listen"`
	APIListen     string  `mapstructure:"api_listen"`
	SecureCookies *string `mapstructure:"secure_cookies"`
	APIToken      string  `mapstructure:"api_token"`
}

type rawQueue struct {
	Strategy       *string `mapstructure:"strategy"`
	RingTimeout    *string `mapstructure:"ring_timeout"`
	MaxWait        *string `mapstructure:"max_wait"`
	MaxCallers     *string `mapstructure:"max_callers"`
	Wrapup         *string `mapstructure:"wrapup"`
	WrapupHold     *string `mapstructure:"wrapup_hold"`
	MOHClass       *string `mapstructure:"moh_class"`
	AutoPauseAfter *string `mapstructure:"auto_pause_after"`
	EscalateAfter  *string `mapstructure:"escalate_after"`
	AnnouncePeriod *string `mapstructure:"announce_period"`
}

type rawClient struct {
	ID              string    `mapstructure:"id"`
	Name            string    `mapstructure:"name"`
	ShortName       string    `mapstructure:"short_name"`
	DIDs            []string  `mapstructure:"dids"`
	Greeting        string    `mapstructure:"greeting"`
	GreetingText    string    `mapstructure:"greeting_text"`
	AfterHoursSound string    `mapstructure:"after_hours_sound"`
	Hours           *rawHours `mapstructure:"hours"`
	Queue           rawQueue  `mapstructure:"queue"`

	AnswerMode             *string     `mapstructure:"answer_mode"`
	RingbackMax            *string     `mapstructure:"ringback_max"`
	TransferTo             *string     `mapstructure:"transfer_to"`
	Overflow               *string     `mapstructure:"overflow"`
	CallbackPrompt         *string     `mapstructure:"callback_prompt"`
	CallbackThanks         *string     `mapstructure:"callback_thanks"`
	CallbackEnterPrompt    *string     `mapstructure:"callback_enter_prompt"`
	CallbackAfterNumber    *string     `mapstructure:"callback_after_number"`
	CallbackGoodbye        *string     `mapstructure:"callback_goodbye"`
	VoicemailPrompt        *string     `mapstructure:"voicemail_prompt"`
	VoicemailMax           *string     `mapstructure:"voicemail_max"`
	VoicemailMaxSilence    *string     `mapstructure:"voicemail_max_silence"`
	AfterHoursVoicemail    *string     `mapstructure:"after_hours_voicemail"`
	TransferTimeout        *string     `mapstructure:"transfer_timeout"`
	TransferCallerID       *string     `mapstructure:"transfer_caller_id"`
	TransferConfirm        *string     `mapstructure:"transfer_confirm"`
	TransferWhisper        *string     `mapstructure:"transfer_whisper"`
	WhisperSound           *string     `mapstructure:"whisper_sound"`
	Record                 *string     `mapstructure:"record"`
	RecordAnnouncement     *string     `mapstructure:"record_announcement"`
	RecordingRetentionDays *string     `mapstructure:"recording_retention_days"`
	IntakeRetentionDays    *string     `mapstructure:"intake_retention_days"`
	OverflowSound          *string     `mapstructure:"overflow_sound"`
	BlockedSound           *string     `mapstructure:"blocked_sound"`
	WithheldSound          *string     `mapstructure:"withheld_sound"`
	BlockWithheld          *string     `mapstructure:"block_withheld"`
	BillAfterHours         *string     `mapstructure:"bill_after_hours"`
	Callers                []rawCaller `mapstructure:"callers"`

	Script   *string         `mapstructure:"script"`
	Manual   string          `mapstructure:"manual"`
	Relay    *rawClientRelay `mapstructure:"relay"`
	APIToken string          `mapstructure:"api_token"`
}

type rawCaller struct {
	Match     string `mapstructure:"match"`
	Action    string `mapstructure:"action"`
	Name      string `mapstructure:"name"`
	BlockMode string `mapstructure:"block_mode"`
	Whisper   string `mapstructure:"whisper"`
}

type rawHours struct {
	Timezone       string              `mapstructure:"timezone"`
	Weekly         map[string][]string `mapstructure:"weekly"`
	PublicHolidays string              `mapstructure:"public_holidays"`
	Closures       []rawClosure        `mapstructure:"closures"`
}

type rawClosure struct {
	From   string `mapstructure:"from"`
	To     string `mapstructure:"to"`
	Reason string `mapstructure:"reason"`
}

type rawOperator struct {
	ID           string   `mapstructure:"id"`
	Name         string   `mapstructure:"name"`
	Endpoint     string   `mapstructure:"endpoint"`
	Clients      []string `mapstructure:"clients"`
	PasswordHash string   `mapstructure:"password_hash"`
	Supervisor   *string  `mapstructure:"supervisor"`
}

// defaults are the values used when the file and the environment are silent.
var defaults = map[string]string{
	"ari.url":                    "http://127.0.0.1:8088/ari",
	"ari.app":                    "toritsugi",
	"ari.request_timeout":        "2s",
	"ari.ping_interval":          "5s",
	"http.listen":                "127.0.0.1:8080",
	"log_level":                  "info",
	"intake_retention_days":      "0",
	"call_record_retention_days": "0",
	"unknown_did_sound":          "sound:ss-noservice",
	"answer_silence":             "sound:silence/1",
	"trunk":                      "PJSIP/trunk",
	"fallback_log":               "/var/spool/asterisk/toritsugi-fallback.log",
	"queue.strategy":             string(StrategyLongestIdle),
	"queue.ring_timeout":         "15s",
	"queue.max_wait":             "5m",
	"queue.wrapup":               "30s",
	"queue.wrapup_hold":          "2m",
	"queue.moh_class":            "default",
	"queue.auto_pause_after":     "3",
	"queue.escalate_after":       "0s",
	"queue.announce_period":      "0s",
}

// envOverrides maps environment variables to the keys they replace.
var envOverrides = []struct{ env, key string }{
	{"TORITSUGI_ARI_URL", "ari.url"},
	{"TORITSUGI_ARI_USER", "ari.user"},
	{"TORITSUGI_ARI_PASSWORD", "ari.password"},
	{"TORITSUGI_HTTP_LISTEN", "http.listen"},
	{"TORITSUGI_HTTP_API_LISTEN", "http.api_listen"},
	{"TORITSUGI_HTTP_API_TOKEN", "http.api_token"},
	{"TORITSUGI_DATA_DIR", "data_dir"},
}

// decodeRaw loads the checked YAML into a local viper with defaults and
// environment overrides. fromEnv maps each overridden key to its variable.
func decodeRaw(yamlText []byte, env func(string) (string, bool)) (raw rawConfig, fromEnv map[string]string, err error) {
	v := viper.New()
	v.SetConfigType("yaml")
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	if err := v.ReadConfig(bytes.NewReader(yamlText)); err != nil {
		return raw, nil, fmt.Errorf("read: %w", err)
	}
	fromEnv = map[string]string{}
	if env != nil {
		for _, o := range envOverrides {
			if val, ok := env(o.env); ok && val != "" {
				v.Set(o.key, val)
				fromEnv[o.key] = o.env
			}
		}
	}
	if err := v.Unmarshal(&raw); err != nil {
		return raw, nil, fmt.Errorf("decode: %w", err)
	}
	return raw, fromEnv, nil
}
