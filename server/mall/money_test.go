package mall

import "testing"

func TestMulDivHalfEven(t *testing.T) {
	for _, tc := range []struct{ a, num, den, want int64 }{
		{1000, 600, 10000, 60}, // 6 % of 10.00
		{125, 1, 10, 12},       // 12.5 → 12 (even)
		{135, 1, 10, 14},       // 13.5 → 14 (even)
		{-125, 1, 10, -12},     // symmetric
		{-135, 1, 10, -14},
		{1, 1, 3, 0},
		{2, 1, 3, 1},
		{999, 17, 30, 566}, // 566.1 → 566
		{1 << 62, 3, 4, 3458764513820540928},
		{5, 1, 0, 0},
	} {
		if got := MulDivHalfEven(tc.a, tc.num, tc.den); got != tc.want {
			t.Errorf("MulDivHalfEven(%d, %d, %d) = %d, want %d", tc.a, tc.num, tc.den, got, tc.want)
		}
	}
	if MinorDigits("JPY") != 0 || MinorDigits("USD") != 2 || MajorUnits(8, "USD") != 800 || MajorUnits(8, "JPY") != 8 {
		t.Fatal("minor units")
	}
}
