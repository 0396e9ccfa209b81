"""The consoles and REST API the hub serves: agent desk (话务员工作台), supervisor
wallboard (值班长), QA review (质检), tickets API, health and metrics."""
