"""Grid managers' cases: intake, routing to a grid member, lifecycle, deadlines, history."""
