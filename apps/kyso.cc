#include "kyso/cli/commands.h"

int main(int argc, char** argv) { return kyso::cli::RunCli(argc, argv); }
