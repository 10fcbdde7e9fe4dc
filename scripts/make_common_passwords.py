"""Write src/cryptolens/data/common_passwords.txt: frequent passwords of 10+ characters.

The list is built from base words and habits that recur at the top of every public breach
ranking (names, keyboard walks, sports, "password" itself) combined with the suffixes people
add to reach a length rule. Only entries of at least 10 characters matter to the policy.
"""

from __future__ import annotations

from pathlib import Path

# fmt: off
WALKS = [
    "1234567890", "0123456789", "12345678910", "123456789a", "1234567890a", "1q2w3e4r5t",
    "1qaz2wsx3edc", "qwertyuiop", "qwertyuiop123", "asdfghjkl", "asdfghjkl1", "zxcvbnm123",
    "qazwsxedc", "qazwsxedcrfv", "1qazxsw23edc", "qwerty123456", "abcdefghij", "abcdefg123",
    "abc1234567", "aaaaaaaaaa", "1111111111", "0000000000", "9876543210", "1122334455",
    "1234512345", "1234554321", "1212121212", "5555555555", "7777777777", "9999999999",
    "zaq12wsxcde3", "!qaz2wsx", "q1w2e3r4t5y6", "a1b2c3d4e5", "passw0rd123", "p@ssw0rd123",
]
WORDS = [
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "iloveyou", "princess", "sunshine",
    "football", "baseball", "basketball", "welcome", "letmein", "monkey", "dragon", "master",
    "shadow", "superman", "batman", "trustno1", "michael", "jennifer", "jordan", "hunter",
    "charlie", "michelle", "jessica", "pepper", "daniel", "access", "thomas", "hockey",
    "ranger", "soccer", "killer", "george", "andrew", "harley", "matthew", "freedom",
    "whatever", "starwars", "computer", "internet", "chocolate", "butterfly", "liverpool",
    "chelsea", "arsenal", "barcelona", "juventus", "manchester", "pokemon", "naruto",
    "minecraft", "fortnite", "samsung", "google", "facebook", "instagram", "linkedin",
    "admin", "administrator", "qwerty", "secret", "changeme", "default", "login", "test",
    "testing", "guest", "summer", "winter", "spring", "autumn", "monday", "friday",
    "bitcoin", "ethereum", "crypto", "blockchain", "satoshi", "hodl", "tothemoon", "lambo",
    "trading", "binance", "coinbase", "cryptolens", "mustang", "corvette", "ferrari",
    "mercedes", "tigger", "cookie", "family", "forever", "lovely", "angel", "flower",
    "jesus", "heaven", "blessed", "loveme", "lovelove", "babygirl", "hello", "helloworld",
    "nicole", "ashley", "daniel", "anthony", "joshua", "william", "robert", "richard",
    "austin", "dallas", "yankees", "cowboys", "lakers", "phoenix", "zxcvbnm", "asdfgh",
    "maverick", "buster", "ginger", "silver", "golden", "diamond", "purple", "orange",
]
SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "2020",
            "2021", "2022", "2023", "2024", "2025", "2026", "01", "69", "007"]
# fmt: on
TARGET = 1000


def build() -> list[str]:
    seen: dict[str, None] = {}
    for walk in WALKS:
        seen.setdefault(walk, None)
    for suffix in SUFFIXES:
        for word in WORDS:
            for candidate in (word + suffix, word.capitalize() + suffix):
                if len(candidate) >= 10:
                    seen.setdefault(candidate.lower(), None)
            if len(seen) >= TARGET:
                return list(seen)
    return list(seen)


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "src/cryptolens/data/common_passwords.txt"
    out.write_text("\n".join(build()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
