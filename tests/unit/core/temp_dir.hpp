#pragma once
// Moved: the one TempDir is tests/support/temp_dir.hpp. This forward goes once no test includes it.
#include "tests/support/temp_dir.hpp"
