// Package relay delivers messages taken by operators (intakes, missed
// calls, voicemails) to client companies reliably (取り次ぎ): a durable
// outbox in the application's bbolt file and one small channel per
// destination type (email, Slack, Chatwork, Teams, LINE, LINE WORKS, signed
// webhook).
//
// # Flow
//
//	text, _ := relay.Render(clientTemplate, m)      // Japanese body
//	m.Text = text
//	dests := relay.Route(m, rules, urgentDests)      // names, pure
//	ob.Enqueue(m, dests)                             // durable, before any send
//	w, _ := relay.NewWorker(ob, relay.WorkerOptions{Destinations: lookup})
//	go w.Run(ctx)                                    // sends, retries, dead-letters
//
// OpenOutbox takes the *bbolt.DB the store package already opened and adds
// the buckets "relay_outbox" (pending and delivered entries),
// "relay_dead" (dead letters) and "relay_due" (an index of the pending
// entries by due time, rebuilt at every OpenOutbox, so that the worker's
// scan after each attempt reads the pending entries, not a month of
// delivered ones), and "relay_unreadable" (the entries OpenOutbox found
// it could not decode, set aside, never sent; UnreadablePage lists them
// for an admin, DiscardUnreadable deletes one, and CheckEntries, for
// check-db, decodes them all). An entry is keyed by its idempotency key
// "<message id>/<destination name>", so enqueueing the same pair twice is a
// no-op. Entries hold the destination name only; addresses and secrets are
// looked up at send time.
//
// # Delivery guarantee
//
// The worker sends due entries (at most WorkerOptions.Concurrency at once)
// and commits each outcome in one bbolt transaction that both counts the
// attempt and, on success, marks the entry delivered; a delivered entry is
// never sent again. Failures back off (10s, 1m, 5m, 30m, 2h, 6h, 12h, ...);
// after MaxAttempts (default 8) attempts, or at once for an ErrPermanent
// error (HTTP 4xx other than 408/425/429, invalid configuration), the entry
// moves to the dead bucket with its last error. Outbox.Retry puts it back.
// A delivery makes the entries waiting for a retry to the same server due
// at once (Outbox.Hasten), so a backlog goes when its server answers
// again; so does a reload for the destinations it adds or changes
// (Outbox.HastenChanged). Such an attempt, made before the entry's
// backoff called for it, is free when it fails: it does not count towards
// MaxAttempts nor advance the backoff, and the entry goes back to the
// time its backoff gave it. An entry that fails on its own while its
// server takes others' messages is brought forward by those deliveries
// at most 16 times (maxFreeHastens). A destination answering 429 (or 503
// with Retry-After) is waited for as it asks, with its other entries, and
// such attempts do not count towards MaxAttempts during an entry's first
// day, up to 100 (throttle.go); a 429 its channel makes permanent (LINE's
// monthly limit) dead-letters the entry at once and holds nothing back.
//
// Delivery is at least once: if the process dies after the receiver
// accepted a message (HTTP 2xx, SMTP 250 after DATA) but before the commit,
// the entry is still pending and is sent once more after restart. Receivers
// drop duplicates by key: every HTTP channel sends the header
//
//	Idempotency-Key: <message id>/<destination name>
//
// and mail carries a Message-ID derived from the same key (see MessageID)
// plus the header X-Toritsugi-Idempotency-Key.
//
// # Receiving webhooks
//
// A webhook destination receives POST application/json: the Message as
// JSON (id, client_id, kind, subject, text, lines, fields, values, urgent,
// created_at, link, and for a message taken intake_id, version and
// updated_at; call_id) with these headers:
//
//	Idempotency-Key:       <message id>/<destination name>
//	X-Toritsugi-Timestamp: <unix seconds, decimal>
//	X-Toritsugi-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// To verify, read the raw body before decoding it and call
//
//	err := relay.VerifySignature(secret,
//		r.Header.Get("X-Toritsugi-Timestamp"), body,
//		r.Header.Get("X-Toritsugi-Signature"), time.Now(), 5*time.Minute)
//
// Receivers in other languages compute the same HMAC over the exact bytes
// received, compare in constant time, reject timestamps more than a few
// minutes from their clock (replay), and answer 2xx only after storing the
// message; ignore a resend by the signed body's id (the Idempotency-Key
// header says the same but is not signed), and keep, of each intake_id,
// the highest version (a correction carries every answer). Answer 4xx
// (other than 408/429) only for requests that will never succeed: the
// sender dead-letters those without retrying.
//
// # Channels
//
// email: net/smtp to Addr with STARTTLS (required unless Insecure) and
// AUTH PLAIN; subject RFC 2047 encoded, UTF-8 body in base64.
// slack: incoming webhook {"text": ..., "mrkdwn": false}. chatwork: POST
// {base}/v2/rooms/{RoomID}/messages, X-ChatWorkToken, form body=...
// teams: Workflows/incoming webhook with one Adaptive Card of plain-text
// RichTextBlocks and a button opening the link.
// lineworks: POST {base}/bots/{BotID}/channels/{RoomID}/messages (or
// /users/{To}/messages) with a Bearer token, {"content":{"type":"text",...}}.
// webhook: signed JSON, above.
package relay
