//! Constant folding of integer expressions, with D's 64-bit arithmetic:
//! operations wrap, `unsigned` picks unsigned division, remainder, right
//! shift and ordering; shifts use the low 6 bits of the count as the
//! hardware does.

use crate::typed::{BinOp, UnOp};

/// Folds `a op b`; `None` for a division or remainder by zero.
pub(crate) fn binary(op: BinOp, unsigned: bool, a: i64, b: i64) -> Option<i64> {
    let (ua, ub) = (a as u64, b as u64);
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div | BinOp::Rem if b == 0 => return None,
        BinOp::Div if unsigned => (ua / ub) as i64,
        BinOp::Div => a.wrapping_div(b),
        BinOp::Rem if unsigned => (ua % ub) as i64,
        BinOp::Rem => a.wrapping_rem(b),
        BinOp::Shl => a.wrapping_shl(b as u32 & 63),
        BinOp::Shr if unsigned => (ua >> (b as u32 & 63)) as i64,
        BinOp::Shr => a >> (b as u32 & 63),
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::Eq => (a == b) as i64,
        BinOp::Ne => (a != b) as i64,
        BinOp::Lt if unsigned => (ua < ub) as i64,
        BinOp::Lt => (a < b) as i64,
        BinOp::Le if unsigned => (ua <= ub) as i64,
        BinOp::Le => (a <= b) as i64,
        BinOp::Gt if unsigned => (ua > ub) as i64,
        BinOp::Gt => (a > b) as i64,
        BinOp::Ge if unsigned => (ua >= ub) as i64,
        BinOp::Ge => (a >= b) as i64,
    })
}

pub(crate) fn unary(op: UnOp, a: i64) -> i64 {
    match op {
        UnOp::Neg => a.wrapping_neg(),
        UnOp::Plus => a,
        UnOp::Not => (a == 0) as i64,
        UnOp::BitNot => !a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_with_signedness() {
        assert_eq!(binary(BinOp::Div, false, -7, 2), Some(-3));
        assert_eq!(binary(BinOp::Div, true, -1, 2), Some(i64::MAX));
        assert_eq!(binary(BinOp::Rem, false, 1, 0), None);
        assert_eq!(binary(BinOp::Lt, true, -1, 1), Some(0));
        assert_eq!(binary(BinOp::Lt, false, -1, 1), Some(1));
        assert_eq!(binary(BinOp::Div, false, i64::MIN, -1), Some(i64::MIN));
        assert_eq!(unary(UnOp::Not, 5), 0);
    }
}
