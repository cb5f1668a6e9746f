// Package intake defines the intake form (一次受付) an operator fills while
// answering a call in a client's name, and checks what was entered.
//
// A form is a Script: the greeting line to say, the fields to ask, the
// closing line, and a read-back template. Scripts come from the built-in
// presets (Preset: simple, standard, guided) or from a client's YAML file
// (ParseScript), which may branch: a field with show_if is asked only when an
// earlier choice or yes/no field has one of the listed values, or, with
// show_if caller, only of the classes of caller listed (CallerClasses: a
// known contact, a withheld number...), which the call decides
// (Script.ForCaller).
//
// Everything is pure: no I/O, no clock, no logging.
//
// Read-back templates are plain text with placeholders:
//
//	[{company}の]{name}様、お電話番号 {callback}、ご用件は{purpose}の件で、よろしいでしょうか。
//
// {id} is replaced by the field's answer in spoken form (a phone number as
// 03-1234-5678, a choice by its label, yes/no as はい/いいえ, a date as
// 1月5日(月) 14:00). A part in [brackets] is left out when a placeholder
// directly inside it has no answer; brackets nest. \{ \} \[ \] \\ write the
// characters themselves.
package intake
