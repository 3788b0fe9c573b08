#pragma once

#include <string>
#include <string_view>

namespace dschat {

/// The whole content of the file at path, given to flag ("--allow-file"); throws Error naming both and the
/// reason ("cannot read --allow-file hosts: No such file or directory").
std::string read_text_file(const std::string& path, std::string_view flag);

}  // namespace dschat
