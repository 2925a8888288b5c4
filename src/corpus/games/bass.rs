//! Beneath a Steel Sky, as Debian's `beneath-a-steel-sky` ships it (the freeware CD version
//! 0.0372 in `/usr/share/scummvm/beneath-a-steel-sky/`): its speech clips as mono PCM.
//!
//! Format facts (from the MultimediaWiki page "RNC ProPack", ScummVM's published Sky engine
//! notes on the disk index, speech numbering and CD intro, and checks on the package's files):
//! - `sky.dnr` indexes `sky.dsk`: a little-endian `u32` count, then 8-byte entries: `u16` file
//!   number, 24-bit offset, 24-bit size-and-flags (all little-endian). With bit 23 of the offset
//!   set, the offset counts 16-byte units (`(off & 0x7F_FFFF) << 4`). The low 22 bits of the
//!   size field are the stored size (checked: the entries tile `sky.dsk` exactly, up to 15 bytes
//!   of alignment); bits 22-23 are game flags, not needed here.
//! - A file starts with the game's 22-byte header (eleven `u16`s). Bit 7 of the first marks an
//!   RNC-packed payload right after the header. Speech uses only that flag and the `u16` at
//!   byte 12 (low 16 bits of 22 + unpacked size); its other header bytes are filler.
//! - RNC ProPack: "RNC", method byte, big-endian `u32` unpacked and packed sizes, `u16` CRC of
//!   the unpacked data, `u16` CRC of the packed data (this order checked on the data; both are
//!   CRC-16/ARC: reflected polynomial 0xA001, initial 0), `u16` overlap, then `packed` bytes.
//!   Method 1 is LZ77 with Huffman-coded numbers. Bits come least-significant first out of
//!   little-endian 16-bit words, fetched only when a read needs more bits; literal bytes sit
//!   between the words and are taken from the current byte position. The stream's last word may
//!   be cut to one byte. The first two bits are flags (lock, key; unused here). Each block holds
//!   three tables (literal-run lengths, match distances, match lengths), each a 5-bit symbol
//!   count (at most 16) and a 4-bit code length per symbol (0 = unused), codes canonical by
//!   (length, symbol), sent first-bit-first; then a 16-bit item count. An item is a literal run
//!   and, except for a block's last item, a match (distance + 1, length + 2). Symbol `s` means
//!   the number `s` when `s < 2`, else `2^(s-1)` plus `s-1` more bits. Blocks repeat until the
//!   output is full. All 4,768 RNC files of the package decode with both CRCs matching.
//! - Speech is unsigned 8-bit mono PCM at 11,025 Hz, one file per line. Text number `t`
//!   (section `t >> 12`, line `t & 0xFFF`) is spoken by disk file
//!   `50000 + SECTION_START[t >> 12] + (t & 0xFFF)`. The CD intro's voice-over (no subtitle
//!   text) is the 88 files of [`INTRO_VOICES`] among the intro's palettes, frames and sounds.
//! - Subtitle text: banks 60600 + 8 * language + section, Huffman-coded with a tree that is
//!   compiled into the engine, not stored in the data files; this module reads audio only.
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Sample rate of every speech clip.
pub const SAMPLE_RATE: u32 = 11_025;
/// Disk file number that speaks text line 0 of section 0.
pub const SPEECH_BASE: u16 = 50_000;
/// First speech file (relative to [`SPEECH_BASE`]) of each text section 0..=7.
pub const SECTION_START: [u16; 8] = [0, 600, 1100, 2430, 3380, 4530, 5080, 5230];
/// Disk files of the CD intro's voice-over, in playing order (entry `i` is intro line `i`).
pub const INTRO_VOICES: [u16; 88] = [
    59500, 59504, 59505, 59507, 59508, 59510, 59511, 59513, 59514, 59515, 59518, 59520, 59523,
    59525, 59527, 59528, 59531, 59534, 59535, 59536, 59539, 59541, 59545, 59546, 59551, 59554,
    59556, 59558, 59561, 59562, 59563, 59565, 59566, 59567, 59568, 59570, 59574, 59576, 59579,
    59581, 59583, 59587, 59588, 59590, 59594, 59596, 59600, 59602, 59606, 59610, 59612, 59613,
    59614, 59615, 59616, 59618, 59621, 59622, 59624, 59627, 59628, 59629, 59630, 59631, 59632,
    59633, 59635, 59639, 59642, 59644, 59647, 59648, 59649, 59654, 59655, 59656, 59659, 59660,
    59663, 59664, 59665, 59666, 59667, 59668, 59669, 59670, 59671, 59672,
];
const FILE_HEADER_LEN: usize = 22;
const RNC_HEADER_LEN: usize = 18;
/// Unpacked sizes above this are refused as malformed (the largest file is about 1 MB).
const MAX_UNPACKED: usize = 1 << 24;

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BassError {
    /// The data ends before the named part.
    Truncated(&'static str),
    NotRnc,
    /// An RNC method other than 1.
    Method(u8),
    /// An implausible unpacked size.
    TooLarge(usize),
    /// More than 16 symbols, or an over-full code.
    BadTable,
    /// A bit pattern that no code of the table matches.
    BadCode,
    /// A match reaching back before the start of the output.
    BadDistance {
        distance: usize,
        have: usize,
    },
    /// The stream produces more than the unpacked size.
    Overrun,
    /// A CRC-16 mismatch of the named part.
    Crc {
        what: &'static str,
        want: u16,
        got: u16,
    },
}
use BassError::*;

impl fmt::Display for BassError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Truncated(what) => write!(f, "truncated data: {what}"),
            NotRnc => write!(f, "no RNC signature"),
            Method(m) => write!(f, "unsupported RNC method {m}"),
            TooLarge(n) => write!(f, "unpacked size {n} is implausible"),
            BadTable => write!(f, "malformed Huffman table"),
            BadCode => write!(f, "bit pattern matches no Huffman code"),
            BadDistance { distance: d, have } => write!(f, "match distance {d} after {have} bytes"),
            Overrun => write!(f, "stream overruns the unpacked size"),
            Crc { what, want, got } => write!(f, "{what} CRC {got:#06x}, expected {want:#06x}"),
        }
    }
}

impl std::error::Error for BassError {}

/// CRC-16/ARC (reflected polynomial 0xA001, initial value 0), as RNC headers carry it.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xA001 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

fn check_crc(what: &'static str, data: &[u8], want: u16) -> Result<(), BassError> {
    let got = crc16(data);
    if got == want {
        Ok(())
    } else {
        Err(Crc { what, want, got })
    }
}

/// Unpack one RNC ProPack blob (header included), checking both CRCs.
pub fn rnc_unpack(src: &[u8]) -> Result<Vec<u8>, BassError> {
    let head = src.get(..RNC_HEADER_LEN).ok_or(Truncated("RNC header"))?;
    // Big-endian field of `n` bytes at `at` (within the 18 header bytes).
    let be = |at: usize, n: usize| {
        head[at..at + n]
            .iter()
            .fold(0u32, |v, &b| v << 8 | u32::from(b))
    };
    if &head[..3] != b"RNC" {
        return Err(NotRnc);
    }
    if head[3] != 1 {
        return Err(Method(head[3]));
    }
    let (unpacked, packed) = (be(4, 4) as usize, be(8, 4) as usize);
    if unpacked > MAX_UNPACKED {
        return Err(TooLarge(unpacked));
    }
    let end = RNC_HEADER_LEN.checked_add(packed);
    let body = end
        .and_then(|e| src.get(RNC_HEADER_LEN..e))
        .ok_or(Truncated("RNC packed data"))?;
    check_crc("packed", body, be(14, 2) as u16)?;
    let out = unpack_method1(body, unpacked)?;
    check_crc("unpacked", &out, be(12, 2) as u16)?;
    Ok(out)
}

/// LSB-first bits from little-endian 16-bit words, with raw bytes between the words.
#[derive(Default)]
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl<'a> Bits<'a> {
    /// Read `n <= 16` bits; the first bit read is bit 0 of the result.
    fn bits(&mut self, n: u32) -> Result<u32, BassError> {
        if self.count < n {
            // The stream's last word may have lost its high byte.
            let lo = self
                .data
                .get(self.pos)
                .copied()
                .ok_or(Truncated("bit stream"))?;
            let hi = self.data.get(self.pos + 1).copied().unwrap_or(0);
            self.buf |= u32::from(u16::from_le_bytes([lo, hi])) << self.count;
            self.pos = (self.pos + 2).min(self.data.len());
            self.count += 16;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }

    /// Take `n` raw bytes at the current byte position.
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], BassError> {
        let out = self.data.get(self.pos..).and_then(|rest| rest.get(..n));
        let out = out.ok_or(Truncated("literal bytes"))?;
        self.pos += n;
        Ok(out)
    }
}

/// A canonical Huffman code: how many codes of each length, and symbols in code order.
struct Table {
    count: [u16; 17],
    symbols: Vec<u8>,
}

impl Table {
    fn read(bits: &mut Bits) -> Result<Table, BassError> {
        let n = bits.bits(5)? as usize;
        if n > 16 {
            return Err(BadTable);
        }
        let mut lens = [0u8; 16];
        for len in lens.iter_mut().take(n) {
            *len = bits.bits(4)? as u8;
        }
        let mut count = [0u16; 17];
        let mut symbols = Vec::with_capacity(n);
        for l in 1..=16u8 {
            for sym in (0..n).filter(|&s| lens[s] == l) {
                count[l as usize] += 1;
                symbols.push(sym as u8);
            }
        }
        // Kraft: the codes of each length must fit in what the shorter ones leave free.
        let mut free = 1i32;
        for &c in &count[1..] {
            free = free * 2 - i32::from(c);
            if free < 0 {
                return Err(BadTable);
            }
        }
        Ok(Table { count, symbols })
    }

    fn symbol(&self, bits: &mut Bits) -> Result<u32, BassError> {
        // Canonical decoding: `first` is the first code of the current length.
        let (mut code, mut first, mut index) = (0i32, 0i32, 0usize);
        for len in 1..=16 {
            code |= bits.bits(1)? as i32;
            let n = i32::from(self.count[len]);
            if code - first < n {
                let at = index + (code - first) as usize;
                return self.symbols.get(at).map(|&s| s.into()).ok_or(BadCode);
            }
            index += n as usize;
            first = (first + n) << 1;
            code <<= 1;
        }
        Err(BadCode)
    }

    /// A number: symbols 0 and 1 stand for themselves, `s >= 2` for `2^(s-1) + (s-1 bits)`.
    fn value(&self, bits: &mut Bits) -> Result<usize, BassError> {
        let s = self.symbol(bits)?;
        if s < 2 {
            return Ok(s as usize);
        }
        Ok(((1u32 << (s - 1)) | bits.bits(s - 1)?) as usize)
    }
}

/// Decode an RNC method-1 stream (the bytes after the 18-byte header) to `unpacked` bytes.
pub fn unpack_method1(body: &[u8], unpacked: usize) -> Result<Vec<u8>, BassError> {
    if unpacked > MAX_UNPACKED {
        return Err(TooLarge(unpacked));
    }
    let mut bits = Bits {
        data: body,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(unpacked);
    bits.bits(2)?;
    while out.len() < unpacked {
        let literals = Table::read(&mut bits)?;
        let distances = Table::read(&mut bits)?;
        let lengths = Table::read(&mut bits)?;
        let items = bits.bits(16)?;
        for item in 0..items {
            let run = literals.value(&mut bits)?;
            if out.len() + run > unpacked {
                return Err(Overrun);
            }
            out.extend_from_slice(bits.bytes(run)?);
            if item + 1 == items {
                break;
            }
            let distance = distances.value(&mut bits)? + 1;
            let length = lengths.value(&mut bits)? + 2;
            let have = out.len();
            if distance > have {
                return Err(BadDistance { distance, have });
            }
            if out.len() + length > unpacked {
                return Err(Overrun);
            }
            let from = out.len() - distance;
            for i in from..from + length {
                let b = out[i];
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// One `sky.dnr` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnrEntry {
    /// The game's file number.
    pub file: u16,
    /// Byte offset into `sky.dsk`.
    pub offset: u64,
    /// Stored size in bytes.
    pub size: u32,
    /// Bits 22-23 of the size field.
    pub flags: u8,
}

/// Parse `sky.dnr`.
pub fn parse_dnr(bytes: &[u8]) -> Result<Vec<DnrEntry>, BassError> {
    let head = bytes.get(..4).ok_or(Truncated("dnr count"))?;
    let count = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = count.checked_mul(8).and_then(|n| n.checked_add(4));
    let table = end.and_then(|e| bytes.get(4..e));
    let table = table.ok_or(Truncated("dnr entries"))?;
    let entry = |e: &[u8]| {
        let off = u32::from_le_bytes([e[2], e[3], e[4], 0]);
        let size = u32::from_le_bytes([e[5], e[6], e[7], 0]);
        // Bit 23 set: the offset counts 16-byte units.
        let offset = u64::from(off & 0x7F_FFFF) << (4 * (off >> 23));
        let file = u16::from_le_bytes([e[0], e[1]]);
        DnrEntry {
            file,
            offset,
            size: size & 0x3F_FFFF,
            flags: (size >> 22) as u8,
        }
    };
    Ok(table.chunks_exact(8).map(entry).collect())
}

/// The text line a disk file speaks, as `(section, text number)`; `None` outside the table.
pub fn text_of_file(file: u16) -> Option<(u32, u16)> {
    let rel = file.checked_sub(SPEECH_BASE)?;
    let section = SECTION_START.iter().rposition(|&start| start <= rel)?;
    let line = rel - SECTION_START[section];
    let end = SECTION_START.get(section + 1).copied().unwrap_or(u16::MAX);
    (rel < end && line <= 0xFFF).then_some((section as u32, ((section as u16) << 12) | line))
}

/// The disk file that speaks text number `text`, if its section is known.
pub fn file_of_text(text: u16) -> Option<u16> {
    let start = *SECTION_START.get(usize::from(text >> 12))?;
    SPEECH_BASE.checked_add(start)?.checked_add(text & 0xFFF)
}

/// Whether a disk file holds speech (a dialogue line or an intro voice-over).
pub fn is_speech_file(file: u16) -> bool {
    text_of_file(file).is_some() || INTRO_VOICES.contains(&file)
}

/// The payload of one `sky.dsk` file: the bytes after its 22-byte header, unpacked if packed.
pub fn file_payload(raw: &[u8]) -> Result<Vec<u8>, BassError> {
    match raw.get(FILE_HEADER_LEN..) {
        None => Err(Truncated("file header")),
        Some(rest) if raw[0] & 0x80 != 0 => rnc_unpack(rest),
        Some(rest) => Ok(rest.to_vec()),
    }
}

/// One speech clip of the game: raw mono PCM as f32 in [-1, 1] at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct BassClip {
    /// `bass-NNNNN` with the disk file number (unique; [`text_of_file`] maps it to the text).
    pub id: String,
    /// Disk file number in `sky.dsk`.
    pub file: u16,
    /// Text section (0..=7) of the line spoken; `None` for the CD intro.
    pub section: Option<u32>,
    /// The game's text number (`section << 12 | line`); `None` for the CD intro.
    pub text: Option<u16>,
    /// Index into [`INTRO_VOICES`] for the CD intro's voice-over.
    pub intro_line: Option<u8>,
    pub sample_rate: u32,
    pub samples: Vec<f32>,
}

/// Turn a speech file's decoded payload (unsigned 8-bit PCM) into a clip.
pub fn clip_from_payload(file: u16, pcm: &[u8]) -> Result<BassClip, BassError> {
    if pcm.is_empty() {
        return Err(Truncated("samples"));
    }
    let (text, intro) = (
        text_of_file(file),
        INTRO_VOICES.iter().position(|&f| f == file),
    );
    Ok(BassClip {
        id: format!("bass-{file}"),
        file,
        section: text.map(|(s, _)| s),
        text: text.map(|(_, t)| t),
        intro_line: intro.map(|i| i as u8),
        sample_rate: SAMPLE_RATE,
        samples: pcm.iter().map(|&b| f32::from(b) / 128.0 - 1.0).collect(),
    })
}

/// `sky.dsk` with its index.
pub struct BassArchive {
    dsk: File,
    entries: Vec<DnrEntry>,
}

impl BassArchive {
    /// Open `sky.dnr` and `sky.dsk` in `dir`.
    pub fn open(dir: &Path) -> io::Result<BassArchive> {
        let dnr = std::fs::read(dir.join("sky.dnr"))?;
        let entries = parse_dnr(&dnr).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(BassArchive {
            dsk: File::open(dir.join("sky.dsk"))?,
            entries,
        })
    }

    /// Every file of the index, in disk order.
    pub fn entries(&self) -> &[DnrEntry] {
        &self.entries
    }

    /// The speech files, in file-number order.
    pub fn speech_entries(&self) -> Vec<DnrEntry> {
        let mut v = self.entries.clone();
        v.retain(|e| is_speech_file(e.file));
        v.sort_by_key(|e| e.file);
        v
    }

    /// The stored bytes of one file.
    pub fn read_raw(&mut self, entry: &DnrEntry) -> io::Result<Vec<u8>> {
        let mut raw = vec![0u8; entry.size as usize];
        self.dsk.seek(SeekFrom::Start(entry.offset))?;
        self.dsk.read_exact(&mut raw)?;
        Ok(raw)
    }

    /// Read, unpack (both CRCs checked) and convert one speech file.
    pub fn read_clip(&mut self, entry: &DnrEntry) -> Result<BassClip, String> {
        let why = |e: &dyn fmt::Display| format!("file {}: {e}", entry.file);
        let raw = self.read_raw(entry).map_err(|e| why(&e))?;
        let pcm = file_payload(&raw).map_err(|e| why(&e))?;
        clip_from_payload(entry.file, &pcm).map_err(|e| why(&e))
    }
}

/// A clip's id with the clip, or why it failed.
pub type ClipResult = (String, Result<BassClip, String>);

/// Every speech clip of the game in `dir`, decoded one at a time as the iterator advances
/// (all of them together are about 2 h, 320 MB as `f32`). A clip that fails is an `Err` item.
pub fn speech_clips(dir: &Path) -> io::Result<impl Iterator<Item = ClipResult>> {
    let mut archive = BassArchive::open(dir)?;
    let entries = archive.speech_entries();
    Ok(entries
        .into_iter()
        .map(move |e| (format!("bass-{}", e.file), archive.read_clip(&e))))
}

/// [`speech_clips`], collected.
pub fn read_speech(dir: &Path) -> io::Result<Vec<ClipResult>> {
    Ok(speech_clips(dir)?.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes bits as the decoder reads them: LSB first into 16-bit words, each reserved at
    /// the current byte position when the previous one is full; raw bytes go in between.
    #[derive(Default)]
    struct Writer {
        out: Vec<u8>,
        word: usize,
        used: u32,
    }

    impl Writer {
        fn new() -> Writer {
            let mut w = Writer::default();
            w.bits(0, 2);
            w
        }
        fn bits(&mut self, v: u32, n: u32) {
            for i in 0..n {
                if self.used.is_multiple_of(16) {
                    (self.word, self.used) = (self.out.len(), 0);
                    self.out.extend([0, 0]);
                }
                let bit = ((v >> i) & 1) as u8;
                self.out[self.word + (self.used / 8) as usize] |= bit << (self.used % 8);
                self.used += 1;
            }
        }
        fn tables(&mut self, items: u32) {
            for lens in [&LIT[..], &DIST, &LEN] {
                self.bits(lens.len() as u32, 5);
                lens.iter().for_each(|&l| self.bits(l, 4));
            }
            self.bits(items, 16);
        }
        /// Send number `v` with the canonical code of `lens` (computed independently here).
        fn value(&mut self, lens: &[u32], v: u32) {
            let sym = if v < 2 { v } else { 32 - v.leading_zeros() };
            let mut order: Vec<usize> = (0..lens.len()).filter(|&s| lens[s] > 0).collect();
            order.sort_by_key(|&s| (lens[s], s));
            let (mut code, mut len) = (0u32, 0u32);
            for &s in &order {
                (code, len) = (code << (lens[s] - len), lens[s]);
                if s as u32 == sym {
                    (0..len).rev().for_each(|i| self.bits((code >> i) & 1, 1));
                    break;
                }
                code += 1;
            }
            if sym >= 2 {
                self.bits(v - (1 << (sym - 1)), sym - 1);
            }
        }
    }

    const LIT: [u32; 4] = [3, 2, 1, 3];
    const DIST: [u32; 3] = [1, 2, 2];
    const LEN: [u32; 4] = [0, 0, 0, 1];

    /// Two blocks: "abcde" (one literal item), then "fgh", a 9-byte overlapping match, "X".
    fn sample() -> (Vec<u8>, Vec<u8>) {
        let mut w = Writer::new();
        w.tables(1);
        w.value(&LIT, 5);
        w.out.extend_from_slice(b"abcde");
        w.tables(2);
        w.value(&LIT, 3);
        w.out.extend_from_slice(b"fgh");
        w.value(&DIST, 3 - 1);
        w.value(&LEN, 9 - 2);
        w.value(&LIT, 1);
        w.out.push(b'X');
        (w.out, b"abcdefghfghfghfghX".to_vec())
    }

    fn with_header(method: u8, body: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut v = [b'R', b'N', b'C', method].to_vec();
        v.extend((plain.len() as u32).to_be_bytes());
        v.extend((body.len() as u32).to_be_bytes());
        v.extend(crc16(plain).to_be_bytes());
        v.extend(crc16(body).to_be_bytes());
        v.extend([0, 0]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn decodes_hand_built_blocks() {
        let (body, plain) = sample();
        assert_eq!(unpack_method1(&body, plain.len()), Ok(plain.clone()));
        assert_eq!(rnc_unpack(&with_header(1, &body, &plain)), Ok(plain));
    }

    #[test]
    fn rejects_bad_headers() {
        let (body, plain) = sample();
        let good = with_header(1, &body, &plain);
        assert_eq!(rnc_unpack(&good[..10]), Err(Truncated("RNC header")));
        assert_eq!(rnc_unpack(b"RNX\x01 and some more bytes"), Err(NotRnc));
        assert_eq!(rnc_unpack(&with_header(2, &body, &plain)), Err(Method(2)));
        let cut = &good[..good.len() - 1];
        assert_eq!(rnc_unpack(cut), Err(Truncated("RNC packed data")));
        let mut bad = good.clone();
        bad[RNC_HEADER_LEN + 3] ^= 0x40;
        assert!(matches!(rnc_unpack(&bad), Err(Crc { what: "packed", .. })));
        let mut bad = good.clone();
        bad[12] ^= 1;
        let what = |r| matches!(r, Err(Crc { what, .. }) if what == "unpacked");
        assert!(what(rnc_unpack(&bad)));
        let mut bad = good;
        bad[4] = 0x7F;
        assert!(matches!(rnc_unpack(&bad), Err(TooLarge(_))));
    }

    #[test]
    fn truncated_or_garbled_streams_fail_cleanly() {
        let (body, plain) = sample();
        for n in 0..body.len() {
            assert!(unpack_method1(&body[..n], 18).is_err(), "prefix {n}");
        }
        // Random bodies and bit flips: any result will do, as long as it returns.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 24
        };
        for _ in 0..5000 {
            let junk: Vec<u8> = (0..next() % 64).map(|_| next() as u8).collect();
            let _ = unpack_method1(&junk, (next() % 4096) as usize);
            let mut flipped = body.clone();
            let at = next() as usize % flipped.len();
            flipped[at] ^= 1 << (next() % 8);
            let _ = unpack_method1(&flipped, plain.len());
        }
    }

    #[test]
    fn bad_tables_and_distances() {
        let mut w = Writer::new();
        w.bits(17, 5);
        w.bits(0, 16);
        assert_eq!(unpack_method1(&w.out, 4), Err(BadTable));
        let mut w = Writer::new();
        w.bits(3, 5);
        w.bits(0x111, 12);
        assert_eq!(unpack_method1(&w.out, 4), Err(BadTable));
        let mut w = Writer::new();
        w.tables(2);
        w.value(&LIT, 1);
        w.out.push(b'a');
        w.value(&DIST, 2);
        w.value(&LEN, 7);
        let r = unpack_method1(&w.out, 20);
        assert!(matches!(r, Err(BadDistance { distance: 3, .. })), "{r:?}");
    }

    #[test]
    fn dnr_entries_and_text_numbers() {
        let mut dnr = 2u32.to_le_bytes().to_vec();
        dnr.extend([0x50, 0xC3, 0x10, 0x00, 0x00, 0x20, 0x01, 0x40]);
        dnr.extend([0x51, 0xC3, 0x01, 0x00, 0x80, 0x00, 0x01, 0x80]);
        let e = parse_dnr(&dnr).expect("valid dnr");
        let fields = |e: &DnrEntry| (e.file, e.offset, e.size, e.flags);
        assert_eq!(fields(&e[0]), (50000, 16, 288, 1));
        assert_eq!(fields(&e[1]), (50001, 16, 256, 2));
        assert_eq!(parse_dnr(&dnr[..19]), Err(Truncated("dnr entries")));
        assert_eq!(parse_dnr(&[1]), Err(Truncated("dnr count")));
        assert_eq!(text_of_file(50007), Some((0, 7)));
        assert_eq!(text_of_file(50600), Some((1, 0x1000)));
        assert_eq!(text_of_file(55230 + 0x2F), Some((7, 0x702F)));
        assert_eq!((text_of_file(49999), text_of_file(59500)), (None, None));
        assert_eq!(file_of_text(0x2517), Some(50000 + 1100 + 0x517));
        assert!(is_speech_file(59500) && !is_speech_file(59501) && !is_speech_file(60600));
    }

    #[test]
    fn package_clips_decode_with_crc() {
        let dir = Path::new("/usr/share/scummvm/beneath-a-steel-sky");
        if !dir.join("sky.dnr").exists() {
            eprintln!("skipping: package not installed");
            return;
        }
        let clips: Vec<_> = speech_clips(dir).expect("open").take(20).collect();
        assert_eq!(clips.len(), 20);
        for (id, clip) in clips {
            let clip = clip.unwrap_or_else(|why| panic!("{id}: {why}"));
            assert_eq!((clip.id.as_str(), clip.section), (id.as_str(), Some(0)));
            assert_eq!(clip.sample_rate, SAMPLE_RATE);
            assert!(clip.samples.len() > SAMPLE_RATE as usize / 10);
            assert!(clip.samples.iter().all(|s| (-1.0..1.0).contains(s)));
        }
    }
}
