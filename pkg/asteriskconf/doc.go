// Package asteriskconf reads Asterisk's .conf files, renders the pjsip.conf
// sections of toritsugi's operators, and checks that an Asterisk
// configuration directory is wired the way toritsugi expects.
//
// The syntax understood is the one Asterisk's config loader reads:
//
//	[section]            ; a section
//	[tpl](!)             ; a template
//	[name](tpl1,tpl2)    ; a section inheriting from earlier sections
//	[name](+)            ; more entries for an existing section
//	key = value
//	exten => _X.,1,NoOp()
//	 same => n,Hangup()
//	#include other.conf  ; recorded, not followed
//	;-- block comment --;
//
// A backslash escapes a semicolon (\;) inside a value.
package asteriskconf
