// Package jpholiday computes the public holidays of Japan (国民の祝日, 振替休日
// and 国民の休日) for the years MinYear–MaxYear from the rules of the law, with
// no table of dates to maintain.
//
// Dates are civil dates (Date) of the Japanese calendar: convert an instant
// with DateOf(t.In(tokyo)) before asking. Equinox days use the standard
// approximation formula, which agrees with the days the Cabinet has announced
// so far; a future announcement that differed would need a code change.
//
// Names follow the law; the Cabinet Office's convention is used for days
// that are holidays only by the substitute or sandwich rules: both are
// named "休日" and told apart by Kind. The one-off days 1989-02-24,
// 1990-11-12, 1993-06-09, 2019-05-01 and 2019-10-22 carry the names of their
// ceremonies.
package jpholiday
