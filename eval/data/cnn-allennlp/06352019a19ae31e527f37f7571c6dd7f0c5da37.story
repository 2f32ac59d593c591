MINNEAPOLIS, Minnesota (CNN) -- Drivers who were on the Minneapolis bridge when it collapsed told harrowing tales of survival.

"The whole bridge from one side of the Mississippi to the other just completely gave way, fell all the way down," survivor Gary Babineau told CNN. "I probably had a 30-, 35-foot free fall. And there's cars in the water, there's cars on fire. The whole bridge is down."

He said his back was injured but he determined he could move around.

"I realized there was a school bus right next to me, and me and a couple of other guys went over and started lifting the kids off the bridge. They were yelling, screaming, bleeding. I think there were some broken bones."  Watch a driver describe his narrow escape »

At home when he heard about the disaster, Dr. John Hink, an emergency room physician, jumped into his car and rushed to the scene in 15 minutes. He arrived at the south side of the bridge, stood on the riverbank and saw dozens of people lying dazed on an expansive deck.

They were in the middle of the Mississippi River, which was churning fast, and he had no way of getting to them. He went to the north side, where there was easier access to people. Ambulances were also having a hard time driving down to the river to get closer to the scene.

Working feverishly, volunteers, EMTs and other officials managed to get 55 people into ambulances in less than two hours. Occasionally, a pickup truck with a medic inside would drive to get an injured person and bring him back up even ground, Hink told CNN.

The rescue effort was controlled and organized, he said; the opposite of the lightning-quick collapse.

"I could see the whole bridge as it was going down, as it was falling," Babineau said. "It just gave a rumble real quick, and it all just gave way, and it just fell completely, all the way to the ground. And there was dust everywhere and it was just like everyone has been saying: It was just like out of the movies."

Babineau said the rear of his pickup truck was dangling over the edge of a broken-off section of the bridge. He said several vehicles slid past him into the water.

"I stayed in my car for one or two seconds. I saw a couple cars fall," he said.

"So I stayed in my car until the cars quit falling for a second, then I got out real quick, ran in front of my truck -- because behind my truck was just a hole -- and I helped a woman off of the bridge with me.

"I just wanted off the bridge, and then I ran over to the school bus. I started grabbing kids and handing them down. It was just complete chaos."

He said most of the children were crying or screaming. He and other rescuers set them on the ground and told them to run to the river bank, but a few needed to be carried because of their injuries.  See rescuers clamber over rubble »

Babineau said he had no rescue training. "I just knew what I had to do at the moment."

Melissa Hughes, 32, of Minneapolis, told The Associated Press that she was driving home when the western edge of the bridge collapsed under her.

"You know that free-fall feeling? I felt that twice," Hughes said.

A pickup landed on top of her car, but she was not hurt.

"I had no idea there was a vehicle on my car," she told AP. "It's really very surreal."

Babineau told the Minneapolis Star-Tribune: "On the way down, I thought I was dead. I literally thought I was dead.

"My truck was completely face down, pointed toward the ground, and my truck got ripped in half. It was folded in half, and I can't believe I'm alive."  See and hear eyewitness accounts »

Bernie Toivonen told CNN's "American Morning" that his vehicle was on a part of the bridge that ended up tilted at a 45-degree angle.

"I knew the deck was going down, there was no question about it, and I thought I was going to die," he said. After the bridge settled and his car remained upright, "I just put in park, turned the key off and said, 'Oh, I'm alive,' " he said. E-mail to a friend

@highlight

NEW: "I thought I was going to die," driver says

@highlight

Man says pickup truck was folded in half; he just has cut on face

@highlight

Driver: "I probably had a 30-, 35-foot free fall"

@highlight

Minnesota bridge collapsed during rush hour Wednesday