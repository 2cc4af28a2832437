package mall

import (
	"math/big"

	"golang.org/x/text/currency"
)

// MulDivHalfEven returns a*num/den rounded half to even: the one rounding
// rule for tax (amount × basis points / 10 000) and proration (amount ×
// remaining days / period days). It works in big integers, so no amount
// overflows.
func MulDivHalfEven(a, num, den int64) int64 {
	if den == 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	// Compare 2|r| with |d| to decide, with ties going to the even quotient.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	cmp := r2.Cmp(new(big.Int).Abs(d))
	if cmp > 0 || (cmp == 0 && q.Bit(0) == 1) {
		if (n.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// MinorDigits is the number of minor-unit digits of an ISO 4217 currency
// (2 for USD, 0 for JPY).
func MinorDigits(code string) int {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// MajorUnits converts whole units to minor units of a currency (8 USD → 800).
func MajorUnits(n int64, code string) int64 {
	for i := 0; i < MinorDigits(code); i++ {
		n *= 10
	}
	return n
}
