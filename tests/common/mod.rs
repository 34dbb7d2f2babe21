//! Shared fixtures: the known-answer vectors, each with its source, and helpers.
#![allow(dead_code, unreachable_pub)]

use webhook_signature::{Headers, Timestamp};

#[allow(dead_code)]
#[path = "rfc8032.rs"]
mod rfc8032;

/// A1's secret, used by the reference libraries in Python, JS, Go, Java, Ruby, PHP and C#.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A1's message id.
pub const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
/// A1's timestamp, as sent.
pub const TIMESTAMP: &str = "1614265330";
/// A1's timestamp, as a number.
pub const NOW: Timestamp = Timestamp::from_unix_secs(1_614_265_330);
/// A1's payload.
pub const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
/// A1's signature.
pub const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/// One known-answer vector: a delivery and the signature entry it must produce.
#[derive(Debug)]
pub struct Vector {
    pub source: &'static str,
    pub secret: &'static str,
    pub id: &'static str,
    pub timestamp: &'static str,
    pub payload: Payload,
    pub signature: &'static str,
}

/// A payload, given literally or as a byte repeated (the 1 MiB vectors).
#[derive(Debug, Clone, Copy)]
pub enum Payload {
    Bytes(&'static [u8]),
    Repeat(u8, usize),
}

impl Payload {
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Payload::Bytes(bytes) => bytes.to_vec(),
            Payload::Repeat(byte, count) => vec![byte; count],
        }
    }
}

impl Vector {
    pub fn headers(&self) -> Headers<'static> {
        Headers { id: self.id, timestamp: self.timestamp, signature: self.signature }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::parse(self.timestamp).expect("vector timestamps are valid")
    }
}

const fn a1_like(
    source: &'static str,
    secret: &'static str,
    payload: Payload,
    signature: &'static str,
) -> Vector {
    Vector { source, secret, id: ID, timestamp: TIMESTAMP, payload, signature }
}

/// Known-answer vectors for the `v1` (HMAC-SHA256) scheme.
pub const V1_VECTORS: &[Vector] = &[
    // A1: the reference libraries' shared vector (Python, JS, Go, Java, Ruby, PHP, C#).
    a1_like("A1 reference libraries", SECRET, Payload::Bytes(PAYLOAD), SIGNATURE),
    // A2: the Rust reference library (standard-webhooks libraries/rust).
    Vector {
        source: "A2 standard-webhooks Rust library",
        secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        timestamp: "1649367553",
        payload: Payload::Bytes(br#"{"email":"test@example.com","username":"test_user"}"#),
        signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    },
    // A3: svix's C# tests, large payloads of 'a'.
    a1_like(
        "A3 svix C# 1048576 x 'a'",
        SECRET,
        Payload::Repeat(b'a', 1_048_576),
        "v1,txpEUxqWZJ5nteTnymUVa+7C4NHpBeXJ6CsBAW0c3/A=",
    ),
    a1_like(
        "A3 svix C# 262144 x 'a'",
        SECRET,
        Payload::Repeat(b'a', 262_144),
        "v1,Mw4Pe2WgApuT7NSqnSq0PQPV9gbLdggCl9B865x5Xh0=",
    ),
    a1_like(
        "A3 svix C# 262143 x 'a'",
        SECRET,
        Payload::Repeat(b'a', 262_143),
        "v1,NTItnqyWMoFhk2Bbe5V/BMdcFRWgcSQaTgqLHX7FC7c=",
    ),
    // A4: the webhook-verify crate's tests.
    a1_like(
        "A4 webhook-verify, bare secret, empty payload",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        Payload::Bytes(b""),
        "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A=",
    ),
    a1_like(
        "A4 webhook-verify, non-ASCII payload",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        Payload::Bytes("héllo, 🦀 world!".as_bytes()),
        "v1,97lN0xDmMiBOfUlhcvdbJPqKzUcBmyfgBUIzq1ocPOk=",
    ),
    a1_like(
        "A4 webhook-verify, 23-byte key with non-canonical trailing bits",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        Payload::Bytes(PAYLOAD),
        "v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk=",
    ),
    a1_like(
        "A4 webhook-verify, 25-byte key with non-canonical trailing bits",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
        Payload::Bytes(PAYLOAD),
        "v1,yK2tMbA6BHPrMEJ1lLv7UlJJbgFoqGenJkiajZ29evg=",
    ),
];

/// Brex's documentation ("Verifying webhooks"): the second entry is a decoy.
pub const BREX: Vector = Vector {
    source: "Brex developer documentation",
    secret: "4j7OxQ4wlv1GmkZ9qLjoFjEFXjpzvHkr",
    id: "msg_24Ky2257Hzd0tgc5bWs8TwK9Kod",
    timestamp: "1643393361",
    payload: Payload::Bytes(
        br#"{"event_type": "TRANSFER_PROCESSED", "transfer_id": "dptx_ckyypz30n000101kgzgnrtqlf", "company_id": "cuacc_ckqckhadg000601r95ox48c2s"}"#,
    ),
    signature: "v1,6mFFi/Bg0gw1Yz2KJwZSVq6Bh+XzllS7JVltAlZ8yCU= v1,9dEEi/Bg0gw1Yz2KJwZSVq6Bh+XzllS7JVltAlZ8yDY=",
};

/// A1's headers with another signature header.
pub fn headers_with(signature: &str) -> Headers<'_> {
    Headers { id: ID, timestamp: TIMESTAMP, signature }
}

/// A1's headers.
pub fn headers() -> Headers<'static> {
    headers_with(SIGNATURE)
}

/// An Ed25519 (`v1a`) known-answer vector over A1's id, timestamp and payload.
#[derive(Debug)]
pub struct Ed25519Vector {
    pub source: &'static str,
    pub secret: &'static str,
    pub public: &'static str,
    pub signature: &'static str,
}

/// Known-answer vectors for the `v1a` scheme; all sign A1's delivery.
pub const V1A_VECTORS: &[Ed25519Vector] = &[
    // B1: Svix's server tests (64-byte secret key: seed then public key).
    Ed25519Vector {
        source: "B1 Svix server",
        secret: "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==",
        public: "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
        signature: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
    },
    // B2: the Go proposal (32-byte seed).
    Ed25519Vector {
        source: "B2 Go proposal",
        secret: "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
        public: "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=",
        signature: "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==",
    },
    // B3: the JavaScript proposal (64-byte key, seed = 32 bytes of 0x01).
    Ed25519Vector {
        source: "B3 JavaScript proposal",
        secret: "whsk_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQGKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXA==",
        public: "whpk_iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=",
        signature: "v1a,Ykcu7AtGZGmZxFEH1Gaa2Nd7feY/CTuruoL4fqgnKwfbHU4DhemoVHZdvGfIvKvn4BIgwktLGGPGIr/i9nK7AA==",
    },
];

#[allow(unused_imports)]
pub(crate) use rfc8032::{RFC8032, hex};

/// Small-order points of edwards25519 (compressed, hex): the identity, the
/// point of order 2, points of order 4 and 8.
pub const SMALL_ORDER_POINTS: &[&str] = &[
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
];
