WASHINGTON (CNN) -- There is "no remaining hope" of finding six men trapped for almost a month in a Utah coal mine alive, a federal official said Saturday.

Isaac Arellano holds a candle and sings during a fundraiser for miners Tuesday in Price, Utah.

"Over the past 25 days, the Mine Safety and Health Administration has exhausted all known options in our attempt to reach the six miners," Richard Stickler, head of the agency, said in a statement.

"The thoughts and prayers of the dedicated professionals at MSHA are with the families."

Sympathy for the failed efforts also came Saturday from the White House.

"Last night, a difficult decision was made to end the search," President Bush said in a statement. "Laura and I are deeply saddened by this tragedy and continue to pray for the families of these men."

Labor Secretary Elaine Chao called the ordeal "heartbreaking."

"The grueling around-the-clock rescue operation that claimed three lives and injured six others has also taken a tremendous toll on the many brave rescuers and the local community, and our thoughts and prayers are with them all," Chao said in a statement.

After drilling seven holes into mine tunnels from the mountaintop above, there has been no sign of the miners -- and microphones have picked up no sound from the men.  See a timeline of rescue efforts »

Tests showed underground oxygen levels were too low to sustain human life.

"We basically told the families that at this point in time we've run out of options," Stickler said at a news conference late Friday.

"We've consulted with the people that we have here, we've consulted with the technical support in Pittsburgh and we've consulted with private consultants in terms of where we can go," he said.

"And basically, through all the information we've gleaned over the past nearly four weeks in terms of the conditions we found, in terms of the air readings we found down there and ... everything else, we just don't know where else we can put a hole to get any other information."  See photos of the rescue mission »

There were no public statements Saturday from Bob Murray, president and CEO of Murray Mining, co-owner of the Crandall Canyon Mine, who was the outspoken face of the rescue operation for the first three weeks, then largely disappeared from public view.

Federal officials became the spokesmen. No one from Murray Mining was present at Friday's news conference.

"They are done. It's finished," the attorney for the families said, according to the Saturday edition of The Salt Lake Tribune.

"It's a hard and bitter pill for our families, and there were quite a few tears shed," the newspaper quotes Colin King as saying.

The men were trapped during a collapse on August 6, and it is not known whether they survived the cave-in.

Efforts to reach them were suspended 10 days later when two rescuers and a federal mining official were killed, and six people were injured in a second collapse as they tried to tunnel horizontally toward the area where the men had been working.

Murray said last week that the search effort would stop if no signs of life were found at the sixth hole.

Under pressure from the families, however, he agreed to try one more time. Families wanted officials to drill a hole large enough to send down a rescue capsule.

The effort to lower the robotic device down a seventh hole had been called "a long shot" by an official.

MSHA's Stickler said that hole was drilled into the Crandall Canyon Mine on Thursday, but there were problems with a robotic camera that teams were trying to lower into it.

Work resumed Friday, this time at the fourth hole, but the camera could only descend about 7 feet, he said.

"Basically, what it saw was really not that much. There was quite a bit of mud in there, water coming down the hole. It really couldn't go any farther than seven feet," he said of the latest try. In addition, the roof was sagging.

"The families asked many, many questions and we answered them all the best we could, basically coming to the conclusion that we had run out of options."

Murray said last Saturday he has already filed paperwork with federal regulators to permanently close and seal the Crandall Canyon mine.

"I will never come back to that evil mountain," he said.

Friends and family have identified the six missing miners as Luis Hernandez, Manuel Sanchez, Kerry Allred, Carlos Payan, Brandon Phillips and Don Erickson. E-mail to a friend

@highlight

NEW: President Bush says he and first lady are deeply saddened by the tragedy

@highlight

Mine Safety and Health Administration chief: We've run out of options.

@highlight

The six men have been trapped underground since August 6

@highlight

Seven bore holes drilled into the mountain have found no signs of life