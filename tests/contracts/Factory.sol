// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A child contract created by Factory: an internal deployment (the outer transaction is a
/// contract interaction with the factory, not a deployment).
contract Child {
    address public immutable owner;
    uint256 public immutable tag;

    constructor(address owner_, uint256 tag_) {
        owner = owner_;
        tag = tag_;
    }
}

contract Factory {
    address[] public children;

    event ChildCreated(address indexed child, address indexed owner, uint256 tag);

    function create(uint256 tag) external returns (address) {
        Child child = new Child(msg.sender, tag);
        children.push(address(child));
        emit ChildCreated(address(child), msg.sender, tag);
        return address(child);
    }

    function count() external view returns (uint256) {
        return children.length;
    }
}
