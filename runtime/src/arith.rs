//! D's integer rules in one place: the interpreter evaluates with these
//! functions and the code generator emits the same operations.

use rdtrace_lang::typed::BinOp;
use rdtrace_lang::types::{IntType, Type};

/// Whether C's usual arithmetic conversions make `a op b` unsigned
/// (used for compound assignments, where the typed program records no
/// flag): operands narrower than `int` promote to `int`; with mixed
/// signedness the unsigned type wins when it is at least as wide.
pub fn usual_unsigned(a: &Type, b: &Type) -> bool {
    let (Some(a), Some(b)) = (a.as_int(), b.as_int()) else {
        return false;
    };
    let promote = |t: IntType| if t.size < 4 { IntType::INT } else { t };
    let (a, b) = (promote(a), promote(b));
    match (a.signed, b.signed) {
        (true, true) => false,
        (false, false) => true,
        (false, true) => a.size >= b.size,
        (true, false) => b.size >= a.size,
    }
}

/// Result of a binary integer operation on 64-bit values; `None` for a
/// division or remainder by zero (a D runtime fault).
pub fn binop(op: BinOp, unsigned: bool, l: i64, r: i64) -> Option<i64> {
    let (ul, ur) = (l as u64, r as u64);
    Some(match op {
        BinOp::Add => l.wrapping_add(r),
        BinOp::Sub => l.wrapping_sub(r),
        BinOp::Mul => l.wrapping_mul(r),
        BinOp::Div if r == 0 => return None,
        BinOp::Rem if r == 0 => return None,
        BinOp::Div if unsigned => (ul / ur) as i64,
        BinOp::Rem if unsigned => (ul % ur) as i64,
        BinOp::Div => l.wrapping_div(r),
        BinOp::Rem => l.wrapping_rem(r),
        // Shift counts are taken modulo 64, as the hardware does.
        BinOp::Shl => l.wrapping_shl(r as u32),
        BinOp::Shr if unsigned => ul.wrapping_shr(r as u32) as i64,
        BinOp::Shr => l.wrapping_shr(r as u32),
        BinOp::BitAnd => l & r,
        BinOp::BitOr => l | r,
        BinOp::BitXor => l ^ r,
        BinOp::Eq => (l == r) as i64,
        BinOp::Ne => (l != r) as i64,
        BinOp::Lt => (if unsigned { ul < ur } else { l < r }) as i64,
        BinOp::Le => (if unsigned { ul <= ur } else { l <= r }) as i64,
        BinOp::Gt => (if unsigned { ul > ur } else { l > r }) as i64,
        BinOp::Ge => (if unsigned { ul >= ur } else { l >= r }) as i64,
    })
}

/// A comparison of two strings, from their `strcmp` ordering.
pub fn compare(op: BinOp, ord: std::cmp::Ordering) -> i64 {
    use std::cmp::Ordering::*;
    (match op {
        BinOp::Eq => ord == Equal,
        BinOp::Ne => ord != Equal,
        BinOp::Lt => ord == Less,
        BinOp::Le => ord != Greater,
        BinOp::Gt => ord == Greater,
        BinOp::Ge => ord != Less,
        _ => false,
    }) as i64
}

pub fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signedness() {
        assert_eq!(binop(BinOp::Div, false, -7, 2), Some(-3));
        assert_eq!(binop(BinOp::Div, true, -8, 2), Some(0x7fff_ffff_ffff_fffc));
        assert_eq!(binop(BinOp::Lt, false, -1, 1), Some(1));
        assert_eq!(binop(BinOp::Lt, true, -1, 1), Some(0));
        assert_eq!(binop(BinOp::Div, false, i64::MIN, -1), Some(i64::MIN));
        assert_eq!(binop(BinOp::Rem, false, 5, 0), None);
        assert!(usual_unsigned(
            &Type::Int(IntType::UINT),
            &Type::Int(IntType::INT)
        ));
        assert!(!usual_unsigned(
            &Type::Int(IntType::UINT16),
            &Type::Int(IntType::INT)
        ));
        assert!(!usual_unsigned(
            &Type::Int(IntType::UINT),
            &Type::Int(IntType::INT64)
        ));
    }
}
