package relay

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

func TestRenderGolden(t *testing.T) {
	intake := testMessage("m-100")
	intake.Subject = "株式会社サンプル 山田様よりお電話"
	intake.Fields = map[string]string{
		"caller": "03-1234-5678", "company": "株式会社サンプル", "name": "山田太郎",
		"callback": "090-1111-2222", "addressee": "佐藤部長", "purpose": "お見積りの件",
		"message": "本日中に折返しをお願いします。", "wait": "12秒",
	}
	intake.Lines = []Line{{"会社名", "株式会社サンプル"}, {"お名前", "山田太郎"}, {"折返し番号", "090-1111-2222"},
		{"宛先（担当者）", "佐藤部長"}, {"ご用件", "お見積りの件"}, {"用件詳細", "本日中に折返しをお願いします。\n資料は先週お送りした件です。"},
		{"折返し希望日時", "12月1日(火) 10:00"}, {"緊急度", "通常"}, {"受付", "op1001"}}
	missed := Message{ID: "m-101", Kind: KindMissedCall, Subject: "不在着信", Urgent: true,
		Fields:    map[string]string{"caller": "非通知"},
		Lines:     []Line{{"お待ちいただいた時間", "1分05秒"}, {"状況", "オペレーターにつながる前にお電話が切れました"}},
		CreatedAt: time.Date(2026, 12, 31, 15, 5, 0, 0, time.UTC)}
	tests := []struct {
		name string
		tmpl string
		m    Message
	}{
		{"intake", "", intake},
		{"missed_urgent", "", missed},
		{"custom", "{{.Subject}} / {{field \"company\"}} / {{kind .Kind}} / {{jst .CreatedAt}}\n", intake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, tt.m)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden.Check(t, filepath.Join("testdata", "render_"+tt.name+".golden"), []byte(got))
		})
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render("{{.Nope", Message{}); err == nil {
		t.Error("bad template parsed")
	}
	if _, err := Render("{{.Missing}}", Message{}); err == nil {
		t.Error("unknown field rendered")
	}
	if _, err := Render("{{template \"x\"}}", Message{}); err == nil {
		t.Error("undefined template rendered")
	}
}
