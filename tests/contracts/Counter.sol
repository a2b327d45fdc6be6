// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Calls with every kind of argument the decoder must handle: uint, string, bytes,
/// a payable call, arrays and a tuple.
contract Counter {
    uint256 public number;
    string public note;
    bytes public blob;
    uint256 public received;

    struct Point {
        int64 x;
        int64 y;
        string label;
    }

    event NumberSet(address indexed by, uint256 number);
    event NoteSet(address indexed by, string note, bytes blob);
    event Paid(address indexed from, uint256 value, string memo);
    event PointSet(int64 x, int64 y, string label);

    function setNumber(uint256 newNumber) external {
        number = newNumber;
        emit NumberSet(msg.sender, newNumber);
    }

    function increment() external {
        number++;
        emit NumberSet(msg.sender, number);
    }

    function setNote(string calldata note_, bytes calldata blob_) external {
        note = note_;
        blob = blob_;
        emit NoteSet(msg.sender, note_, blob_);
    }

    function pay(string calldata memo) external payable {
        received += msg.value;
        emit Paid(msg.sender, msg.value, memo);
    }

    function addAll(uint256[] calldata values, bool reset) external returns (uint256) {
        if (reset) {
            number = 0;
        }
        for (uint256 i = 0; i < values.length; i++) {
            number += values[i];
        }
        emit NumberSet(msg.sender, number);
        return number;
    }

    function setPoint(Point calldata p) external {
        emit PointSet(p.x, p.y, p.label);
    }

    receive() external payable {
        received += msg.value;
    }
}
