#include "core/protocol.hpp"

#include <doctest/doctest.h>

#include <cstdint>

using dschat::format_bytes;
using dschat::is_command;
using dschat::is_pass_command;
using dschat::is_quit_command;
using dschat::too_long_reply;

TEST_CASE("too_long_reply names the limit") {
  CHECK(too_long_reply(4096) == "! line too long (max 4096 bytes)");
  CHECK(too_long_reply(1) == "! line too long (max 1 bytes)");
}

TEST_CASE("format_bytes counts bytes below 1 KiB") {
  CHECK(format_bytes(0) == "0 bytes");
  CHECK(format_bytes(1) == "1 byte");
  CHECK(format_bytes(512) == "512 bytes");
  CHECK(format_bytes(1023) == "1023 bytes");
}

TEST_CASE("format_bytes uses binary units with at most one decimal") {
  CHECK(format_bytes(1024) == "1 KiB");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(1100) == "1.1 KiB");  // 1.07 rounds to 1.1
  CHECK(format_bytes(1075) == "1 KiB");    // 1.0498 rounds to 1.0, shown without ".0"
  CHECK(format_bytes(64 * 1024) == "64 KiB");
  CHECK(format_bytes(1024 * 1024) == "1 MiB");
  CHECK(format_bytes(1024 * 1024 * 3 / 2) == "1.5 MiB");
  CHECK(format_bytes(std::size_t{5} << 30) == "5 GiB");
  CHECK(format_bytes((std::size_t{5} << 30) + (std::size_t{1} << 29)) == "5.5 GiB");
}

TEST_CASE("format_bytes moves to the next unit when rounding reaches 1024") {
  CHECK(format_bytes(1024 * 1024 - 1) == "1 MiB");
  CHECK(format_bytes(1024 * 1023) == "1023 KiB");
  CHECK(format_bytes((std::size_t{1} << 30) - 1) == "1 GiB");
}

TEST_CASE("format_bytes stays in GiB for huge counts") {
  CHECK(format_bytes(std::size_t{2048} << 30) == "2048 GiB");
  CHECK(format_bytes(SIZE_MAX) == "17179869184 GiB");
}

TEST_CASE("is_command ignores ASCII case only") {
  CHECK(is_command("nick", "nick"));
  CHECK(is_command("NiCK", "nick"));
  CHECK_FALSE(is_command("nic", "nick"));
  CHECK_FALSE(is_command("nicks", "nick"));
}

TEST_CASE("is_quit_command reads /quit as the chat room does") {
  CHECK(is_quit_command("/quit"));
  CHECK(is_quit_command("/QUIT"));
  CHECK(is_quit_command("/quit bye now"));
  CHECK(is_quit_command("/quit\tbye"));
  CHECK_FALSE(is_quit_command("/quitter"));
  CHECK_FALSE(is_quit_command("//quit"));
  CHECK_FALSE(is_quit_command("quit"));
  CHECK_FALSE(is_quit_command(""));
}

TEST_CASE("is_pass_command finds every /pass, so that none is logged") {
  CHECK(is_pass_command("/pass secret"));
  CHECK(is_pass_command("/PaSs\tsecret"));
  CHECK(is_pass_command("/pass"));
  CHECK_FALSE(is_pass_command("/passwd x"));
  CHECK_FALSE(is_pass_command("//pass x"));
  CHECK_FALSE(is_pass_command("pass x"));
  CHECK_FALSE(is_pass_command(""));
}

TEST_CASE("idle_notice") {
  CHECK(dschat::idle_notice(300) == "! closing: no line for 300 s");
  CHECK(dschat::idle_notice(1.5) == "! closing: no line for 1.5 s");
  CHECK(dschat::idle_notice(0.25) == "! closing: no line for 0.25 s");
}
