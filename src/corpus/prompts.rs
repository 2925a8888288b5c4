//! Generated prompts: connected digit strings (Aurora-2 style), numbers, dates, times and
//! short spoken commands, already in normalised form (lowercase words, no punctuation).

use rand::RngExt;

use crate::augment::Rng;
use crate::text::number_words;

const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const ORDINALS: [&str; 31] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty first",
    "twenty second",
    "twenty third",
    "twenty fourth",
    "twenty fifth",
    "twenty sixth",
    "twenty seventh",
    "twenty eighth",
    "twenty ninth",
    "thirtieth",
    "thirty first",
];
const ROOMS: [&str; 8] = [
    "kitchen",
    "bedroom",
    "living room",
    "bathroom",
    "hallway",
    "garage",
    "office",
    "garden",
];
const DEVICES: [&str; 6] = ["lights", "heating", "fan", "radio", "television", "lamp"];
const PEOPLE: [&str; 10] = [
    "mum",
    "dad",
    "anna",
    "james",
    "the office",
    "doctor patel",
    "grandma",
    "peter",
    "sarah",
    "the garage",
];

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A connected digit string of `1..=7` digits; "zero" is read as "oh" half of the time.
pub fn digit_string(rng: &mut Rng) -> String {
    let n = rng.random_range(1..=7);
    (0..n)
        .map(|_| {
            let d = rng.random_range(0..10usize);
            if d == 0 && rng.random_bool(0.5) {
                "oh"
            } else {
                DIGITS[d]
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn year(rng: &mut Rng) -> String {
    let y: u32 = rng.random_range(1900..2040);
    if (2000..2010).contains(&y) {
        return number_words(&y.to_string());
    }
    let (hi, lo) = (y / 100, y % 100);
    let lo = match lo {
        0 => "hundred".to_string(),
        1..=9 => format!("oh {}", DIGITS[lo as usize]),
        _ => number_words(&lo.to_string()),
    };
    format!("{} {lo}", number_words(&hi.to_string()))
}

fn date(rng: &mut Rng) -> String {
    let m = pick(rng, &MONTHS);
    let d = ORDINALS[rng.random_range(0..28usize)];
    match rng.random_range(0..3) {
        0 => format!("the {d} of {m} {}", year(rng)),
        1 => format!("{m} {d}"),
        _ => format!("on {m} the {d}"),
    }
}

fn time(rng: &mut Rng) -> String {
    let h = number_words(&rng.random_range(1..=12u32).to_string());
    match rng.random_range(0..4) {
        0 => format!("{h} o'clock"),
        1 => format!("half past {h}"),
        2 => format!("quarter to {h}"),
        _ => format!(
            "{h} {}",
            number_words(&rng.random_range(10..60u32).to_string())
        ),
    }
}

fn number(rng: &mut Rng) -> String {
    let digits = match rng.random_range(0..3) {
        0 => rng.random_range(0..100u64),
        1 => rng.random_range(100..10_000u64),
        _ => rng.random_range(10_000..10_000_000u64),
    };
    number_words(&digits.to_string())
}

fn command(rng: &mut Rng) -> String {
    match rng.random_range(0..9) {
        0 => format!(
            "turn {} the {} {}",
            pick(rng, &["on", "off"]),
            pick(rng, &ROOMS),
            pick(rng, &DEVICES)
        ),
        1 => format!(
            "set a timer for {} minutes",
            number_words(&rng.random_range(2..60u32).to_string())
        ),
        2 => format!("call {}", pick(rng, &PEOPLE)),
        3 => format!("wake me up at {}", time(rng)),
        4 => format!(
            "set the temperature to {} degrees",
            number_words(&rng.random_range(15..28u32).to_string())
        ),
        5 => format!(
            "{} the music",
            pick(rng, &["play", "stop", "pause", "resume"])
        ),
        6 => format!("remind me to call {} on {}", pick(rng, &PEOPLE), date(rng)),
        7 => format!(
            "what is the weather like {}",
            pick(rng, &["today", "tomorrow", "this weekend", "tonight"])
        ),
        _ => format!("dial {} {}", digit_string(rng), digit_string(rng)),
    }
}

/// One generated prompt of a random kind (numbers, dates, times, commands, digits).
pub fn prompt(rng: &mut Rng) -> String {
    match rng.random_range(0..5) {
        0 => digit_string(rng),
        1 => number(rng),
        2 => date(rng),
        3 => format!("it is {}", time(rng)),
        _ => command(rng),
    }
}

/// `n` distinct prompts (fewer if the generator runs dry after many tries).
pub fn distinct_prompts(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut tries = 0;
    while out.len() < n && tries < 50 * n + 100 {
        tries += 1;
        let p = prompt(rng);
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::rng;
    use crate::text::normalize;

    #[test]
    fn prompts_are_already_normalised() {
        let mut r = rng(5);
        for p in distinct_prompts(2000, &mut r) {
            assert_eq!(normalize(&p), p);
            assert!(!p.is_empty());
        }
    }

    #[test]
    fn digit_strings_have_one_to_seven_digits() {
        let mut r = rng(1);
        for _ in 0..500 {
            let n = digit_string(&mut r).split(' ').count();
            assert!((1..=7).contains(&n));
        }
    }

    #[test]
    fn years_read_like_people_say_them() {
        let mut r = rng(2);
        let years: Vec<String> = (0..200).map(|_| year(&mut r)).collect();
        assert!(years.iter().any(|y| y.starts_with("nineteen ")));
        assert!(years.iter().all(|y| !y.contains("zero")));
    }
}
